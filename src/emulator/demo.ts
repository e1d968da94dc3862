/**
 * `npm run demo`: cog-token end to end on a machine with no AWS account.
 *
 * Starts the cognito-local emulator with a pool, a client and a user with SMS MFA, writes a `demo` profile into
 * a throwaway cog-token environment (its own XDG directories under one temp dir), runs the real command line
 * (`cog-token get demo` twice, then `status`) against a real daemon, and stops and removes everything it
 * started, also on failure and on Ctrl-C. At a terminal the person types the password and the code at the
 * real prompts; without one (CI) the profile answers with password_command / mfa_command, which read them
 * from environment variables of the child, so no secret is written to a file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasTerminal } from '../client/answering/answers.js';
import { maxSocketPathBytes, resolvePaths } from '../shared/paths.js';
import { quietSdkWarnings } from '../shared/sdk-warnings.js';
import { Emulator, type Pool } from './harness.js';

const USERNAME = 'demo-user';
const PASSWORD = 'Demo-Passw0rd!';
const CODE = '424242';
const PROFILE = 'demo';
const cli = fileURLToPath(new URL('../client/main.js', import.meta.url));

/** How long cleanup waits for a process to go after asking it to (then SIGTERM, then SIGKILL). */
const EXIT_GRACE_MS = 5_000;
/** Deadline for `cog-token stop` and `status`: neither ever asks anything. */
const QUICK_COMMAND_MS = 15_000;
/** Deadline for an unattended `get`; at a terminal the person takes the time they need. */
const UNATTENDED_GET_MS = 60_000;

class Interrupted extends Error {}

function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function indent(text: string, by = '   '): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `${by}${l}`)
    .join('\n');
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/** Alive and not a zombie (a daemon whose parent exited is reaped by init, which may take a moment). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Processes (Linux: /proc) whose environment holds `marker`: every process started with the demo's env. */
function processesWithEnv(marker: string): number[] {
  if (!existsSync('/proc/self/environ')) return [];
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(marker)) found.push(pid);
    } catch {
      // Gone, or another user's.
    }
  }
  return found;
}

async function waitUntilDead(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() >= deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already.
    }
  }
}

/** A JWT's header and payload, as JSON objects (not verified: the token came from our own emulator). */
function decode(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.');
  const part = (p: string | undefined) =>
    JSON.parse(Buffer.from(p ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: part(header), payload: part(payload) };
}

const timeClaims = new Set(['iat', 'exp', 'auth_time', 'nbf']);
/** The claims a reader looks for first; the others follow in the token's order. */
const claimOrder = ['token_use', 'cognito:username', 'aud', 'iss', 'sub', 'iat', 'exp', 'auth_time'];

function rank(key: string): number {
  const i = claimOrder.indexOf(key);
  return i === -1 ? claimOrder.length : i;
}

function describeClaims(payload: Record<string, unknown>): string {
  const entries = Object.entries(payload).sort(([a], [b]) => rank(a) - rank(b));
  const width = Math.max(...entries.map(([k]) => k.length));
  const lines = entries.map(([key, value]) => {
    let shown = typeof value === 'string' ? value : JSON.stringify(value);
    if (timeClaims.has(key) && typeof value === 'number') {
      shown = `${new Date(value * 1000).toISOString()} (${value})`;
    }
    return `${key.padEnd(width)}  ${shown}`;
  });
  const { iat, exp } = payload;
  if (typeof iat === 'number' && typeof exp === 'number') {
    const minutes = Math.round((exp - iat) / 60);
    const span = minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
    lines.push(`${''.padEnd(width)}  (valid for ${span} from iat)`);
  }
  return lines.join('\n');
}

function toml(value: string): string {
  return JSON.stringify(value);
}

interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

class Demo {
  private readonly abort = new AbortController();
  private root: string | undefined;
  private runDir: string | undefined;
  private env: NodeJS.ProcessEnv | undefined;
  private emulator: Emulator | undefined;
  private readonly children = new Set<ChildProcess>();
  private readonly daemonPids = new Set<number>();
  private cleaning: Promise<void> | undefined;

  get interrupted(): boolean {
    return this.abort.signal.aborted;
  }

  interrupt(): void {
    this.abort.abort();
    for (const child of this.children) child.kill('SIGTERM');
  }

  private checkpoint(): void {
    if (this.interrupted) throw new Interrupted('interrupted');
  }

  async run(): Promise<void> {
    const unattended = !hasTerminal();
    out('cog-token demo: a local Cognito emulator, a throwaway cog-token environment and a real daemon.');
    out('Nothing here talks to AWS or touches your own cog-token files; all of it is removed at the end.');
    out();

    this.root = await makeRoot();
    out(`temp dir: ${this.root}`);
    out();

    out('1. Starting the cognito-local emulator (a stand-in for Amazon Cognito on this machine)...');
    const emulator = await Emulator.start({ dir: join(this.root, 'emulator'), code: CODE });
    this.emulator = emulator;
    this.checkpoint();
    const pool = await emulator.createPool({ name: 'cog-token-demo' });
    this.checkpoint();
    await emulator.createUser(pool, USERNAME, PASSWORD);
    this.checkpoint();
    await emulator.enableSmsMfa(pool, USERNAME);
    this.checkpoint();
    out(`   emulator: ${emulator.endpoint} (pid ${emulator.pid})`);
    out(`   user pool ${pool.poolId}, app client ${pool.clientId}`);
    out(`   user:     ${USERNAME}`);
    out(`   password: ${PASSWORD}`);
    out(`   MFA code: ${CODE}   (SMS MFA is on; the emulator "sends" this code every time)`);
    out();

    const configFile = await this.makeEnvironment(pool, emulator, unattended);
    out('2. A throwaway cog-token environment (XDG_* directories in the temp dir), with this profile in');
    out(`   ${configFile}:`);
    out();
    out(indent(readFileSync(configFile, 'utf8'), '     '));
    out();
    if (unattended) {
      out('   No terminal here, so the profile answers for you: password_command and mfa_command print');
      out('   the password and the code from environment variables given to cog-token (never a file).');
      out();
    }

    out(`3. cog-token get ${PROFILE}: starts the daemon on demand, which signs in through the emulator.`);
    if (!unattended) {
      out(`   When asked, type the password ${PASSWORD} and then the code ${CODE}.`);
    }
    const first = await this.cli(['get', PROFILE], { interactive: true });
    this.expectOk(first, `get ${PROFILE}`);
    const token = first.stdout.trim();
    if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) throw new Error(`get ${PROFILE} printed no token`);
    const { header, payload } = decode(token);
    out();
    out(`   The id token (the only thing get prints on stdout, so TOKEN=$(cog-token get ${PROFILE}) works):`);
    out();
    out(token);
    out();
    out(`   header: ${JSON.stringify(header)}`);
    out('   claims:');
    out(indent(describeClaims(payload), '     '));
    out();

    out(`4. cog-token get ${PROFILE} --no-input (the same command, now not allowed to ask anyone):`);
    const second = await this.cli(['get', PROFILE, '--no-input'], { interactive: false });
    this.expectOk(second, `the second get ${PROFILE}`);
    const again = second.stdout.trim();
    out();
    out(again);
    out();
    if (again !== token) throw new Error(`the second get ${PROFILE} printed another token`);
    out(
      `   The same token, in ${second.ms} ms, without asking anything: the daemon answered from its cache.`,
    );
    out('   It keeps the tokens (encrypted) and refreshes them before they expire.');
    out();
    out('   cog-token status:');
    const status = await this.cli(['status'], { interactive: false, timeoutMs: QUICK_COMMAND_MS });
    this.expectOk(status, 'status');
    out(indent(status.stdout, '     '));
    const pid = /daemon: pid (\d+)/.exec(status.stdout)?.[1];
    if (pid) this.daemonPids.add(Number(pid));
    out();
  }

  /** The temp dirs and config for the children: the demo's own environment is left as it is. */
  private async makeEnvironment(pool: Pool, emulator: Emulator, unattended: boolean): Promise<string> {
    const root = this.root as string;
    const dir = (name: string) => join(root, name);
    for (const name of ['home', 'config', 'data', 'state', 'cache']) await mkdir(dir(name), { mode: 0o700 });
    this.runDir = dir('run');
    await mkdir(this.runDir, { mode: 0o700 });
    const configFile = join(dir('config'), 'cog-token', 'config.toml');
    await mkdir(join(dir('config'), 'cog-token'), { mode: 0o700 });

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // macOS: env-paths ignores XDG_* and uses ~/Library, so HOME moves too.
      HOME: dir('home'),
      XDG_CONFIG_HOME: dir('config'),
      XDG_DATA_HOME: dir('data'),
      XDG_STATE_HOME: dir('state'),
      XDG_CACHE_HOME: dir('cache'),
      XDG_RUNTIME_DIR: this.runDir,
      COG_TOKEN_CONFIG: configFile,
    };
    // These would point the demo at the user's own daemon or key.
    for (const name of [
      'COG_TOKEN_SOCKET',
      'COG_TOKEN_KEY_FILE',
      'LISTEN_PID',
      'LISTEN_FDS',
      'LISTEN_FDNAMES',
    ]) {
      delete env[name];
    }
    const lines = [
      `[profiles.${PROFILE}]`,
      `region = ${toml(pool.region)}`,
      `user_pool_id = ${toml(pool.poolId)}`,
      `client_id = ${toml(pool.clientId)}`,
      `username = ${toml(USERNAME)}`,
      'auth_flow = "USER_PASSWORD_AUTH"',
      `endpoint = ${toml(emulator.endpoint)}`,
    ];
    if (unattended) {
      env.COG_DEMO_PASSWORD = PASSWORD;
      env.COG_DEMO_CODE = CODE;
      lines.push('password_command = "printenv COG_DEMO_PASSWORD"', 'mfa_command = "printenv COG_DEMO_CODE"');
    }
    await writeFile(configFile, `${lines.join('\n')}\n`, { mode: 0o600 });
    this.env = env;
    return configFile;
  }

  private expectOk(r: CliResult, what: string): void {
    if (r.code === 0) return;
    const how = r.signal ? `was killed by ${r.signal}` : `exited with status ${r.code}`;
    const said = r.stderr
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1);
    throw new Error(`cog-token ${what} ${how}${said ? `: ${said.replace(/^cog-token: /, '')}` : ''}`);
  }

  /**
   * Runs the real command line with the demo environment. stdout is captured; stderr is passed through as
   * it comes (and kept for the failure line); interactive: stdin is the demo's, and no deadline.
   */
  private cli(
    args: string[],
    opts: { interactive: boolean; timeoutMs?: number; cleanup?: boolean },
  ): Promise<CliResult> {
    const cleanup = opts.cleanup === true;
    if (!cleanup) this.checkpoint();
    const started = Date.now();
    const child = spawn(process.execPath, [cli, ...args], {
      env: this.env,
      stdio: [opts.interactive ? 'inherit' : 'ignore', 'pipe', 'pipe'],
    });
    if (!cleanup) this.children.add(child);
    const timeoutMs = opts.timeoutMs ?? (opts.interactive && hasTerminal() ? undefined : UNATTENDED_GET_MS);
    return new Promise((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (!cleanup) process.stderr.write(d);
      });
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              stderr += `\ncog-token: no answer within ${timeoutMs / 1000} s\n`;
              child.kill('SIGTERM');
            }, timeoutMs);
      child.once('error', (error) => {
        clearTimeout(timer);
        this.children.delete(child);
        reject(error);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        this.children.delete(child);
        if (this.interrupted && !cleanup) return reject(new Interrupted('interrupted'));
        resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
      });
    });
  }

  /** Stops everything the demo started and removes its temp dir. Runs once; later calls wait for it. */
  cleanup(): Promise<void> {
    this.cleaning ??= this.doCleanup();
    return this.cleaning;
  }

  private async doCleanup(): Promise<void> {
    const errors: unknown[] = [];
    const step = async (fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (error) {
        errors.push(error);
      }
    };
    out('5. Cleaning up...');
    // A command still running (interrupted): it goes first, so it cannot start a daemon behind our back.
    await step(async () => {
      const running = [...this.children];
      const pids = running.map((c) => c.pid).filter((p): p is number => p !== undefined);
      signalAll(pids, 'SIGTERM');
      signalAll(await waitUntilDead(pids, EXIT_GRACE_MS), 'SIGKILL');
      const left = await waitUntilDead(pids, EXIT_GRACE_MS);
      if (left.length > 0) throw new Error(`cog-token process ${left.join(', ')} did not exit`);
    });
    await step(async () => {
      if (this.runDir === undefined) return;
      const socket = join(this.runDir, 'cog-token', 'sock');
      if (existsSync(socket)) {
        const lock = join(this.runDir, 'cog-token', 'daemon.lock');
        try {
          const pid = Number.parseInt(readFileSync(lock, 'utf8'), 10);
          if (Number.isInteger(pid) && pid > 0) this.daemonPids.add(pid);
        } catch {
          // No lock: no daemon, or one that is going.
        }
        const r = await this.cli(['stop'], {
          interactive: false,
          timeoutMs: QUICK_COMMAND_MS,
          cleanup: true,
        });
        const pid = /daemon (\d+) stopped/.exec(r.stderr)?.[1];
        if (pid) this.daemonPids.add(Number(pid));
        if (r.code !== 0) throw new Error(`cog-token stop exited with status ${r.code}`);
      }
      // Any daemon started with the demo's environment, whatever state it was left in.
      for (const pid of processesWithEnv(`XDG_RUNTIME_DIR=${this.runDir}\0`)) this.daemonPids.add(pid);
      const pids = [...this.daemonPids];
      let left = await waitUntilDead(pids, EXIT_GRACE_MS);
      signalAll(left, 'SIGTERM');
      left = await waitUntilDead(left, EXIT_GRACE_MS);
      signalAll(left, 'SIGKILL');
      left = await waitUntilDead(left, EXIT_GRACE_MS);
      if (left.length > 0) throw new Error(`daemon ${left.join(', ')} did not exit`);
      if (pids.length > 0) out(`   daemon ${pids.join(', ')} stopped`);
    });
    await step(async () => {
      if (this.emulator === undefined) return;
      const pid = this.emulator.pid;
      await this.emulator.stop();
      out(`   emulator${pid ? ` ${pid}` : ''} stopped`);
    });
    await step(async () => {
      if (this.root === undefined) return;
      await rm(this.root, { recursive: true, force: true });
      out(`   removed ${this.root}`);
    });
    if (errors.length > 0) throw errors[0];
  }
}

/** A fresh 0700 temp dir whose socket path stays under the limit of Unix sockets. */
async function makeRoot(): Promise<string> {
  const socketTail = join('run', 'cog-token', 'sock');
  for (const base of [tmpdir(), '/tmp']) {
    const root = await mkdtemp(join(base, 'cog-demo-'));
    if (Buffer.byteLength(join(root, socketTail)) <= maxSocketPathBytes) return root;
    await rm(root, { recursive: true, force: true });
  }
  throw new Error(`no temp dir short enough for a socket path (TMPDIR=${tmpdir()})`);
}

function realConfigFile(): string {
  try {
    return resolvePaths(process.env).configFile;
  } catch {
    return '~/.config/cog-token/config.toml';
  }
}

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

async function main(): Promise<number> {
  quietSdkWarnings();
  const demo = new Demo();
  let caught: NodeJS.Signals | undefined;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (caught === undefined) {
        caught = signal;
        process.stderr.write(`\ndemo: ${signal}: stopping and cleaning up...\n`);
        demo.interrupt();
      } else {
        process.stderr.write('demo: still cleaning up, one moment...\n');
      }
    });
  }
  let failure: unknown;
  try {
    await demo.run();
  } catch (error) {
    failure = error;
  }
  try {
    await demo.cleanup();
  } catch (error) {
    failure ??= error;
  }
  if (caught !== undefined) {
    process.stderr.write(`demo: interrupted (${caught}); everything it started is stopped and removed\n`);
    return 128 + (signalNumbers[caught] ?? 0);
  }
  if (failure !== undefined) {
    process.stderr.write(`demo failed: ${firstLine(failure)}\n`);
    return 1;
  }
  out();
  out('Done: cog-token got a token, cached it, and everything the demo started is gone.');
  out(`To use it for real, add a [profiles.NAME] table to ${realConfigFile()}`);
  out('with your pool (region, user_pool_id, client_id, username), then run: cog-token get NAME');
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`demo failed: ${firstLine(error)}\n`);
    process.exitCode = 1;
  },
);
