/**
 * No comment or message names a flag or a file that does not exist (issue 12). Flags are checked against
 * the built command line's own `--help` for each command, so the check follows the CLI wherever its code
 * lives; files against the checkout.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist/client/main.js');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.(ts|c)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** src, and the documents a user or a contributor reads. */
const texts = [
  ...sourceFiles(join(root, 'src')),
  ...['README.md', 'ARCHITECTURE.md'].map((f) => join(root, f)),
].map((file) => ({ file: relative(root, file), text: readFileSync(file, 'utf8') }));

function help(args: string[]): string {
  return execFileSync(process.execPath, [cli, ...args, '--help'], { encoding: 'utf8' });
}

/** Each command's options as its --help lists them (two-space indented lines of the Options section). */
function cliOptions(): Map<string, Set<string>> {
  const commands = [...help([]).matchAll(/^ {2}cog-token ([\w-]+)/gm)].map((m) => m[1] as string);
  const options = new Map<string, Set<string>>();
  for (const command of commands) {
    const names = new Set<string>();
    for (const m of help([command]).matchAll(/^ {2}(?:-\w, )?--([\w-]+)/gm)) {
      names.add(m[1] as string);
      names.add(`no-${m[1]}`); // yargs takes --no-X for any option X.
    }
    options.set(command, names);
  }
  return options;
}

/** Flags of other programs that the code or the documents name, with whose they are. */
const foreign: Record<string, string> = {
  inspect: 'node',
  'inspect-brk': 'node',
  import: 'node',
  'max-semi-space-size': 'node',
  global: 'git config',
  user: 'systemctl',
  now: 'systemctl',
  'allow-scripts': 'npm',
  'dangerously-allow-all-scripts': 'npm',
  'new-window': 'firefox',
  'max-results': 'aws cognito-idp list-user-pools',
  'get-yargs-completions': 'yargs (what the completion script runs)',
};

/** The benchmark's own options (src/bench/main.ts reads them with option('name')): in src/bench, or beside "bench". */
const benchOptions = new Set(
  [...readFileSync(join(root, 'src/bench/main.ts'), 'utf8').matchAll(/option\('([\w-]+)'\)/g)].map(
    (m) => m[1],
  ),
);

/** A line with what follows a bare ` -- ` cut off: those are another program's arguments. */
const ownPart = (line: string) => line.split(/\s--\s/)[0] as string;

describe('names in comments and messages exist', () => {
  const options = cliOptions();
  const any = new Set([...options.values()].flatMap((s) => [...s]));

  it('found the commands and their options in the built CLI', () => {
    expect([...options.keys()]).toEqual(
      expect.arrayContaining(['get', 'login', 'logout', 'devices', 'configure']),
    );
    expect(options.get('get')).toEqual(expect.objectContaining(new Set(['timeout', 'no-input', 'format'])));
  });

  it('every `cog-token <command> ... --flag` is an option of that command', () => {
    const bad: string[] = [];
    for (const { file, text } of texts) {
      for (const line of text.split('\n').map(ownPart)) {
        for (const m of line.matchAll(/cog-token ([a-z][\w-]*)([^`'"#;|)\n]*)/g)) {
          const command = m[1] as string;
          const known = options.get(command);
          if (!known) continue; // Prose ("cog-token runs ..."), not a command line.
          for (const f of (m[2] as string).matchAll(/(?:^|\s)--([a-z][\w-]*)/g)) {
            const name = `${file}: cog-token ${command} --${f[1]}`;
            if (!known.has(f[1] as string)) bad.push(name);
          }
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('every other --flag is an option of the CLI, or of the program it is said to belong to', () => {
    const bad: string[] = [];
    for (const { file, text } of texts) {
      for (const line of text.split('\n').map(ownPart)) {
        for (const m of line.matchAll(/(?:^|[^\w-])--([a-z][\w-]*)/g)) {
          const flag = m[1] as string;
          const ok =
            any.has(flag) ||
            foreign[flag] !== undefined ||
            ((file.startsWith('src/bench/') || /bench/.test(line)) && benchOptions.has(flag));
          if (!ok) bad.push(`${file}: --${flag}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('every repository path named in src and the documents exists', () => {
    const bad: string[] = [];
    for (const { file, text } of texts) {
      for (const m of text.matchAll(/\b((?:src|test|scripts|systemd|launchd|patches)\/[\w./-]*\w)/g)) {
        const named = m[1] as string;
        const exists = existsSync(join(root, named)) || existsSync(join(root, named.replace(/\.js$/, '.ts')));
        if (!exists) bad.push(`${file}: ${named}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('every source file named by its bare name (`sign-in.ts`, `build.mjs`) exists somewhere in the checkout', () => {
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : [e.name],
      );
    const names = new Set(['src', 'test', 'scripts'].flatMap((d) => walk(join(root, d))));
    const bad: string[] = [];
    for (const { file, text } of texts) {
      for (const m of text.matchAll(/(?<![\w.*/-])([\w-]+\.(?:ts|mjs|c))\b/g)) {
        const named = m[1] as string;
        if (!names.has(named)) bad.push(`${file}: ${named}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
