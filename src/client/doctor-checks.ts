/**
 * `cog-token doctor`'s checks: each looks at one thing (the config, a directory, the daemon, the service
 * files, Node) and says what it found; a problem comes with its fix. Nothing is changed and no daemon is
 * started. Notes are said but are not problems (an optional part missing, such as the peer-uid module).
 */
import { accessSync, constants, existsSync, lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Config, loadConfig } from '../shared/config.js';
import { relativeTime } from '../shared/durations.js';
import { messageOf } from '../shared/errors.js';
import type { Paths } from '../shared/paths.js';
import type { DaemonStatus, ProfileStatus } from '../shared/protocol.js';
import { loadPeerCred } from '../system/peercred.js';
import { fileStates, servicePlan } from './service-install.js';

export type Finding = { kind: 'ok' | 'note'; text: string } | { kind: 'problem'; text: string; fix: string };

const ok = (text: string): Finding => ({ kind: 'ok', text });
const note = (text: string): Finding => ({ kind: 'note', text });
const problem = (text: string, fix: string): Finding => ({ kind: 'problem', text, fix });

const me = process.getuid?.();
const mode = (m: number) => (m & 0o777).toString(8).padStart(3, '0');

/** The Node.js versions package.json's engines allow (`^20.19.0 || >=22`); README lists the lines tested. */
export function nodeFinding(version: string): Finding {
  const [major = 0, minor = 0] = version.split('.').map((n) => Number.parseInt(n, 10));
  const supported = (major === 20 && minor >= 19) || major >= 22;
  const text = `Node.js ${version} (supported: 20.19+, 22, 24, 26)`;
  return supported ? ok(text) : problem(text, 'run cog-token with a supported Node.js');
}

/** The config file: there, ours, not writable by others, parsed; each broken profile with its error. */
export function configFindings(file: string): { findings: Finding[]; config?: Config } {
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st) return { findings: [problem(`config ${file} does not exist`, 'run cog-token configure')] };
  const findings: Finding[] = [];
  if (me !== undefined && st.uid !== me && st.uid !== 0)
    findings.push(
      problem(
        `config ${file} belongs to another user (uid ${st.uid}); the daemon refuses it`,
        'copy it to a file of your own (cp, then rm the original)',
      ),
    );
  else if ((st.mode & 0o022) !== 0)
    findings.push(
      problem(
        `config ${file} can be changed by other users (mode ${mode(st.mode)}); the daemon refuses it`,
        `run chmod go-w ${file}`,
      ),
    );
  let config: Config;
  try {
    config = loadConfig(file);
  } catch (error) {
    findings.push(problem(`config ${file} cannot be used: ${messageOf(error)}`, ''));
    return { findings };
  }
  const n = config.profiles.size;
  findings.push(ok(`config ${file}: ${n} profile${n === 1 ? '' : 's'} (mode ${mode(st.mode)})`));
  for (const [name, error] of config.broken)
    findings.push(problem(`profile ${name} is broken: ${error.message}`, ''));
  for (const w of config.warnings) findings.push(problem(w, ''));
  if (n === 0 && config.broken.size === 0)
    findings.push(problem(`config ${file} has no profile`, 'run cog-token configure'));
  return { findings, config };
}

/** A private directory of cog-token's: ours, a directory (not a link), no access for group or others. */
export function directoryFinding(what: string, dir: string): Finding {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(dir);
  } catch {
    return note(`${what} ${dir} does not exist yet (made when first needed)`);
  }
  if (!st.isDirectory())
    return problem(
      `${what} ${dir} is not a directory`,
      'use a directory of your own (see the README, Files)',
    );
  if (me !== undefined && st.uid !== me)
    return problem(
      `${what} ${dir} belongs to uid ${st.uid}, not to you`,
      'use a directory of your own, e.g. under $XDG_RUNTIME_DIR or $HOME',
    );
  if ((st.mode & 0o077) !== 0)
    return problem(`${what} ${dir} is open to others (mode ${mode(st.mode)})`, `run chmod 700 ${dir}`);
  return ok(`${what} ${dir}: yours, mode ${mode(st.mode)}`);
}

/** A private file of cog-token's (socket, store, key): ours, no access for group or others. */
export function fileFinding(what: string, file: string): Finding | undefined {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(file);
  } catch {
    return undefined;
  }
  if (me !== undefined && st.uid !== me)
    return problem(`${what} ${file} belongs to uid ${st.uid}, not to you`, `move it aside`);
  if ((st.mode & 0o077) !== 0)
    return problem(`${what} ${file} is open to others (mode ${mode(st.mode)})`, `run chmod 600 ${file}`);
  return ok(`${what} ${file}: yours, mode ${mode(st.mode)}`);
}

/** Where the store's key lives: the daemon knows; without one, the files say what they can. */
export function keyFinding(paths: Paths, daemon: DaemonStatus | undefined): Finding {
  if (daemon?.keyLocation) return ok(`key: ${daemon.keyLocation}`);
  if (existsSync(paths.keyFile)) return fileFinding('key: key file', paths.keyFile) as Finding;
  if (existsSync(paths.databaseFile))
    return note(
      `key: the OS keyring, as no key file ${paths.keyFile} is beside the store (the daemon says for sure)`,
    );
  return note(
    `key: none yet; the first sign-in makes one (the OS keyring when reachable, else ${paths.keyFile})`,
  );
}

/** The peer-uid module in this client, and whether the running daemon's check works. */
export function peerFinding(daemon: DaemonStatus | undefined): Finding {
  const loaded = loadPeerCred();
  if ('missing' in loaded)
    return note(
      `peer-uid check: not active (${loaded.missing}); the socket's permissions alone keep others out. To build it: install a C compiler and make, then reinstall cog-token`,
    );
  if (daemon && !daemon.peerCheck)
    return note(
      `peer-uid check: built, but the daemon does not use it (${daemon.peerCheckInactive ?? 'no reason given'})`,
    );
  return ok(`peer-uid check: active${daemon?.peerCheck ? ` (${daemon.peerCheck})` : ' (built)'}`);
}

/**
 * Each profile as the daemon sees it; signed out, needing a sign-in or one due soon each say what to run.
 * `told`: profiles whose trouble the config check already said (broken, or the whole file refused).
 */
export function profileFindings(
  profiles: readonly ProfileStatus[],
  nowSeconds: number,
  told: (p: ProfileStatus) => boolean,
): Finding[] {
  return profiles.flatMap((p): Finding[] => {
    if (p.state === 'signed-out' && p.lastError && told(p)) return [];
    const login = `run cog-token login ${p.name}`;
    const found: Finding[] = [];
    if (p.state === 'needs-sign-in')
      found.push(
        problem(`profile ${p.name}: needs a sign-in${p.lastError ? ` (${p.lastError})` : ''}`, login),
      );
    else if (p.state === 'signed-out' && p.lastError === 'not in the config file')
      found.push(note(`profile ${p.name}: tokens in the store, but not in the config file`));
    else if (p.state === 'signed-out' && p.lastError)
      // The daemon's line names its own remedy.
      found.push(problem(`profile ${p.name}: signed out: ${p.lastError}`, ''));
    else if (p.state === 'signed-out')
      found.push(note(`profile ${p.name}: signed out (the first get signs in)`));
    else {
      found.push(ok(`profile ${p.name}: ${p.state}${p.username ? ` as ${p.username}` : ''}`));
      if (p.lastError) found.push(note(`profile ${p.name}: the last refresh failed: ${p.lastError}`));
    }
    const ends = p.refreshTokenExpiresAt;
    if (ends !== undefined) {
      const text = `profile ${p.name}: a sign-in will be needed ${relativeTime(ends, nowSeconds)} (refresh_token_days)`;
      found.push(ends - nowSeconds <= 3 * 86400 ? problem(text, login) : ok(text));
    }
    return found;
  });
}

/** A program name looked up on PATH (a name with a slash is taken as a path). */
function onPath(program: string, env: NodeJS.ProcessEnv): string | undefined {
  const runnable = (path: string) => {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  };
  if (program.includes('/')) return isAbsolute(program) && runnable(program) ? program : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && runnable(join(dir, program))) return join(dir, program);
  }
  return undefined;
}

/**
 * The browser a browser sign-in would open, for each profile: its browser_command (read as a raw field:
 * older configs lack it), else $BROWSER, else xdg-open (open on macOS). Its absence is a note: only a
 * browser sign-in needs one.
 */
export function browserFindings(config: Config | undefined, env: NodeJS.ProcessEnv): Finding[] {
  const fallback = env.BROWSER
    ? `$BROWSER (${env.BROWSER})`
    : process.platform === 'darwin'
      ? 'open'
      : 'xdg-open';
  const fallbackProgram = env.BROWSER || (process.platform === 'darwin' ? 'open' : 'xdg-open');
  const own = [...(config?.profiles.values() ?? [])].flatMap((p) => {
    const command = (p as unknown as Record<string, unknown>).browserCommand;
    return typeof command === 'string' ? [{ name: p.name, command }] : [];
  });
  const findings = own.map(({ name, command }) => {
    const program = command.trim().split(/\s+/)[0] ?? '';
    const found = onPath(program, env);
    return found
      ? ok(`browser for profile ${name}: browser_command ${command} (${found})`)
      : note(`browser for profile ${name}: browser_command ${program} is not found on PATH`);
  });
  const program = fallbackProgram.trim().split(/\s+/)[0] ?? '';
  const found = onPath(program, env);
  findings.push(
    found
      ? ok(`browser: ${fallback} (${found})`)
      : note(
          `browser: ${fallback} is not found on PATH; a browser sign-in needs browser_command or $BROWSER`,
        ),
  );
  return findings;
}

/** The pinentry a client without a terminal would offer (answering/pinentry.ts decides; loaded on demand). */
export async function pinentryFinding(config: Config | undefined, env: NodeJS.ProcessEnv): Promise<Finding> {
  const { pinentryForClient } = await import('./answering/answers.js');
  const configured = config?.pinentryProgram;
  const found = pinentryForClient(configured, env);
  if (found) return ok(`pinentry: ${found}${configured ? ' (pinentry_program)' : ''}`);
  if (configured)
    return problem(
      `pinentry: pinentry_program ${configured} is not found`,
      'install it or fix pinentry_program',
    );
  return note(
    'pinentry: none usable without a terminal (needs a display or GPG_TTY, and a pinentry on PATH)',
  );
}

/** The client's entry point beside the bundle this is in, as `service install` writes it. */
const entryFile = join(dirname(fileURLToPath(import.meta.url)), 'main.js');

/** The service files: not installed (fine: the daemon starts on demand), current, or out of date. */
export function serviceFindings(logFile: string, env: NodeJS.ProcessEnv): Finding[] {
  if (process.platform !== 'linux' && process.platform !== 'darwin') return [];
  let plan: ReturnType<typeof servicePlan>;
  try {
    plan = servicePlan({
      platform: process.platform,
      env,
      node: realpathSync(process.execPath),
      entry: realpathSync(entryFile),
      logFile,
      uid: me ?? 0,
    });
  } catch (error) {
    return [problem(`service: ${messageOf(error)}`, '')];
  }
  const states = fileStates(plan);
  if (states.every((f) => f.state === 'absent'))
    return [
      note(
        'service: not installed (the daemon starts on the first get; cog-token service install runs it as a service)',
      ),
    ];
  return states.map((f) =>
    f.state === 'current'
      ? ok(`service file ${f.path}: current`)
      : problem(
          `service file ${f.path}: ${f.state === 'absent' ? 'missing' : 'differs from what service install writes now (node or cog-token moved?)'}`,
          'run cog-token service install',
        ),
  );
}

/** The directory cog-token runs from (dist/client/../..), links resolved. */
export function packageRootOf(): string {
  return realpathSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
}

/** cog-token run from a checkout linked by `npm install -g .`: moving the checkout breaks it. */
export function installFinding(root: string): Finding | undefined {
  if (!existsSync(join(root, '.git'))) return undefined;
  let name = '';
  try {
    name = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: string }).name ?? '';
  } catch {
    return undefined;
  }
  if (name !== 'cog-token') return undefined;
  return note(
    `install: cog-token runs from the checkout ${root}; moving or deleting it breaks the command and the service (the packaged install avoids that: see the README, Install)`,
  );
}
