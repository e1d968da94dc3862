/**
 * scripts/build-native.mjs (issue 15, point 12): a failed peer-uid build says its real cause in one line (the
 * compiler's first error, the missing compiler, a compiler that failed silently), never node-gyp's
 * boilerplate, and the install goes on (exit 0). Each build runs node-gyp for real, in a copy of the files
 * the package ships for it (binding.gyp, src/native, the script), against this Node's headers.
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunResult } from './support/cog.js';
import { collectOutput } from './support/run-with-input.js';

const checkout = resolve(import.meta.dirname, '..');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The node-gyp npm ships beside the npm of this Node, as npm_config_node_gyp names it at install. */
function npmNodeGyp(): string {
  const npm = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
  return join(dirname(npm), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}

function copyOfPackage(): string {
  const dir = mkdtempSync('/tmp/cog-native-');
  dirs.push(dir);
  cpSync(join(checkout, 'binding.gyp'), join(dir, 'binding.gyp'));
  cpSync(join(checkout, 'src', 'native'), join(dir, 'src', 'native'), { recursive: true });
  cpSync(join(checkout, 'scripts', 'build-native.mjs'), join(dir, 'scripts', 'build-native.mjs'));
  return dir;
}

function build(dir: string, env: Record<string, string> = {}): Promise<RunResult> {
  const child = spawn(process.execPath, ['scripts/build-native.mjs'], {
    cwd: dir,
    env: {
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: dir,
      npm_config_node_gyp: npmNodeGyp(),
      // The headers of this Node (.ci/run names each line's own; the machine's Node has them in /usr).
      npm_config_nodedir: process.env.npm_config_nodedir ?? dirname(dirname(process.execPath)),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return collectOutput(child, 240_000);
}

const notBuilt = (cause: string) =>
  `cog-token: the peer-uid check was not built (${cause}); the daemon will rely on its socket's permissions alone\n`;

describe('the peer-uid build', () => {
  it('builds quietly where a compiler is', async () => {
    const dir = copyOfPackage();
    const r = await build(dir);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(existsSync(join(dir, 'build', 'Release', 'peercred.node'))).toBe(true);
  });

  it("a compile error: the compiler's first error line", async () => {
    const dir = copyOfPackage();
    appendFileSync(
      join(dir, 'src', 'native', 'peercred.c'),
      'int broken(void) { return undeclared_thing; }\n',
    );
    const r = await build(dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^cog-token: the peer-uid check was not built \(\.\.\/src\/native\/peercred\.c:\d+:\d+: error: .undeclared_thing. undeclared[^\n]*\); the daemon will rely on its socket's permissions alone\n$/,
    );
  });

  it('a compiler that is not there: its name', async () => {
    const r = await build(copyOfPackage(), { CC: '/nonexistent/cc' });
    expect(r).toMatchObject({ code: 0, stderr: notBuilt("No such file or directory: '/nonexistent/cc'") });
  });

  it('a compiler that fails without a word (CC=false): which compiler, and what make could not build', async () => {
    const r = await build(copyOfPackage(), { CC: 'false' });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^cog-token: the peer-uid check was not built \(the C compiler \(false\) failed without a message: make: \*\*\* \[[^\]]+peercred\.o\] Error 1\); the daemon will rely on its socket's permissions alone\n$/,
    );
  });

  it('no node-gyp: says so', async () => {
    const r = await build(copyOfPackage(), { npm_config_node_gyp: '/nonexistent/node-gyp.js' });
    expect(r).toMatchObject({ code: 0, stderr: notBuilt("Cannot find module '/nonexistent/node-gyp.js'") });
  });
});
