/**
 * An isolated cog-token world for the tests and the benchmark: its own XDG directories, config file and
 * daemon, driven through the built command line (dist/client/main.js) and daemon (dist/daemon/main.js), as
 * a user's shell would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { daemonNodeOptions } from '../client/daemon-connection.js';
import type { Pool } from '../emulator/harness.js';
import { protocolVersion } from '../shared/protocol.js';
import { requestOnce } from './daemon-socket.js';
import { waitUntil } from './poll.js';

/** Two levels up from src/testing (or dist/bench, where the benchmark bundles this): the package root. */
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
export const cliEntry = join(packageRoot, 'dist/client/main.js');
const daemonEntry = join(packageRoot, 'dist/daemon/main.js');

/**
 * The Node that runs the daemons the benchmark starts: COG_TOKEN_BENCH_DAEMON_NODE (`--daemon-node`), else
 * the one running the benchmark. The daemon loads better-sqlite3, a native module built for one Node; the
 * client the benchmark measures loads none (its peer-uid module is Node-API, built once for every line), so
 * a client on another Node line can be measured against a daemon on the Node its modules were built for.
 */
export function daemonNode(): string {
  return process.env.COG_TOKEN_BENCH_DAEMON_NODE || process.execPath;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The files of an isolated world under its root, and the environment that points cog-token at them (only
 * what a user's shell would pass that matters here; no session bus, so the key lives in a file).
 */
export class WorldFiles {
  readonly env: Record<string, string>;
  readonly configFile: string;
  readonly runtimeDir: string;
  readonly socketFile: string;
  readonly lockFile: string;
  readonly logFile: string;
  readonly databaseFile: string;
  readonly keyFile: string;

  protected constructor(
    readonly root: string,
    extraEnv: Record<string, string> = {},
  ) {
    this.configFile = join(root, 'config', 'cog-token', 'config.toml');
    this.runtimeDir = join(root, 'run', 'cog-token');
    this.socketFile = join(this.runtimeDir, 'sock');
    this.lockFile = join(this.runtimeDir, 'daemon.lock');
    this.logFile = join(root, 'state', 'cog-token', 'daemon.log');
    this.databaseFile = join(root, 'data', 'cog-token', 'tokens.db');
    this.keyFile = join(root, 'state', 'cog-token', 'store.key');
    this.env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: root,
      XDG_CONFIG_HOME: join(root, 'config'),
      XDG_DATA_HOME: join(root, 'data'),
      XDG_STATE_HOME: join(root, 'state'),
      XDG_CACHE_HOME: join(root, 'cache'),
      XDG_RUNTIME_DIR: join(root, 'run'),
      ...extraEnv,
    };
  }

  /** A new root: a short path under /tmp (socket paths must stay under 108 bytes), with its config and run dirs. */
  protected static makeRoot(prefix: string): string {
    const root = mkdtempSync(prefix);
    mkdirSync(join(root, 'config', 'cog-token'), { recursive: true });
    mkdirSync(join(root, 'run'), { mode: 0o700 });
    return root;
  }

  /** 0600, as the README advises (a test that wants a looser mode chmods it). */
  writeConfig(text: string): void {
    writeFileSync(this.configFile, text, { mode: 0o600 });
  }

  /** The pid the daemon's lock file names, while that process lives. */
  daemonPid(): number | undefined {
    try {
      const pid = Number.parseInt(readFileSync(this.lockFile, 'utf8'), 10);
      return Number.isInteger(pid) && pidAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }
}

/** A world for the benchmark and the shared-work scenarios: it starts and stops its daemon itself. */
export class World extends WorldFiles {
  private daemon?: ChildProcess;

  static create(): World {
    return new World(WorldFiles.makeRoot('/tmp/cogb-'));
  }

  /** A [profiles.NAME] table for a pool on the emulator (or a proxy in front of it: `endpoint`). */
  static profile(
    name: string,
    endpoint: string,
    pool: Pool,
    username: string,
    extra: Record<string, string | number> = {},
  ): string {
    const lines = [
      `[profiles.${name}]`,
      `region = "${pool.region}"`,
      `user_pool_id = "${pool.poolId}"`,
      `client_id = "${pool.clientId}"`,
      `username = "${username}"`,
      'auth_flow = "USER_PASSWORD_AUTH"',
      `endpoint = "${endpoint}"`,
    ];
    for (const [k, v] of Object.entries(extra)) {
      lines.push(`${k} = ${typeof v === 'number' ? v : JSON.stringify(v)}`);
    }
    return `${lines.join('\n')}\n`;
  }

  /** Runs the command line to the end. */
  run(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [cliEntry, ...args], {
        env: { ...this.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /**
   * Starts a daemon and waits until it answers: detached, its log in the usual file, with the Node options
   * a client gives a daemon it starts (daemon-connection.ts), plus `nodeArgs` (profiling, experiments).
   */
  async startDaemon(options: { env?: Record<string, string>; nodeArgs?: string[] } = {}): Promise<number> {
    mkdirSync(join(this.root, 'state', 'cog-token'), { recursive: true, mode: 0o700 });
    const log = openSync(this.logFile, 'a', 0o600);
    const child = spawn(daemonNode(), [...daemonNodeOptions, ...(options.nodeArgs ?? []), daemonEntry], {
      env: { ...this.env, ...options.env },
      stdio: ['ignore', 'ignore', log],
      detached: true,
    });
    closeSync(log);
    child.unref();
    this.daemon = child;
    const pid = child.pid as number;
    await waitUntil('the daemon to answer', () => this.pings(pid));
    return pid;
  }

  /** True when the daemon with this pid answers a ping on the socket. */
  async pings(pid: number): Promise<boolean> {
    try {
      const r = await requestOnce(this.socketFile, { v: protocolVersion, op: 'ping' });
      return r.type === 'result' && 'pid' in r && r.pid === pid;
    } catch {
      return false;
    }
  }

  /** Stops this world's daemon (SIGTERM) and waits until it is gone. */
  async stopDaemon(): Promise<void> {
    const pids = new Set<number>();
    const pid = this.daemonPid();
    if (pid) pids.add(pid);
    if (this.daemon?.pid && this.daemon.exitCode === null) pids.add(this.daemon.pid);
    for (const p of pids) {
      try {
        process.kill(p, 'SIGTERM');
      } catch {
        // Gone.
      }
      await waitUntil(`daemon ${p} to exit`, () => !pidAlive(p));
    }
    this.daemon = undefined;
  }

  async cleanup(): Promise<void> {
    await this.stopDaemon();
    rmSync(this.root, { recursive: true, force: true });
  }
}
