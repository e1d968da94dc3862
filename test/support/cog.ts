/**
 * An isolated cog-token world for one test: its own XDG directories, config file and daemon, driven through
 * the real command line (dist/client/main.js) as a user would.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TokenStore } from '../../src/daemon/token-store.js';
import type { Emulator, Pool } from '../../src/emulator/harness.js';
import { waitUntil } from '../../src/testing/poll.js';
import { pidAlive, type RunResult, World, WorldFiles } from '../../src/testing/world.js';
import { collectOutput } from './run-with-input.js';
import { isSecretName, scanEnvironment, tokensIn } from './secret-scan.js';

// src/testing's helpers, shared with the benchmark: one way to poll with a deadline and to tell a live process.
export { pidAlive, type RunResult, waitUntil };

export const cli = resolve(import.meta.dirname, '../../dist/client/main.js');

export class CogEnv extends WorldFiles {
  /** Secrets this environment has seen (tokens printed, passwords and codes passed in): see secret-scan.ts. */
  readonly secrets = new Set<string>();

  static create(): CogEnv {
    return new CogEnv(WorldFiles.makeRoot('/tmp/cogt-'), {
      COG_TOKEN_LOG: process.env.COG_TOKEN_LOG ?? 'debug',
    });
  }

  /** A [profiles.NAME] table for a pool on the emulator (World.profile, with the emulator's endpoint). */
  static profile(
    name: string,
    emu: Emulator,
    pool: Pool,
    username: string,
    extra: Record<string, string | number> = {},
  ): string {
    return World.profile(name, emu.endpoint, pool, username, extra);
  }

  /**
   * A shell command that records each run in `<root>/runs.<name>` and prints `output` (or, when `outputs` has
   * several values, the n-th on the n-th run, the last one from then on).
   */
  countingCommand(name: string, ...outputs: string[]): string {
    const file = join(this.root, `runs.${name}`);
    const script = join(this.root, `cmd.${name}.sh`);
    // Double quotes, so an output may name a variable ("$COG_TEST_PW") and keep the secret out of the file.
    const quote = (o: string) => `"${o.replace(/["\\`]/g, '\\$&')}"`;
    this.noteSecrets(...outputs.filter((o) => !o.includes('$')));
    const cases = outputs
      .map((o, i) => `${i === outputs.length - 1 ? '*' : i + 1}) printf '%s\\n' ${quote(o)} ;;`)
      .join('\n  ');
    writeFileSync(
      script,
      `#!/bin/sh\necho run >> '${file}'\nn=$(wc -l < '${file}')\ncase $n in\n  ${cases}\nesac\n`,
      { mode: 0o700 },
    );
    return script;
  }

  runs(name: string): number {
    const file = join(this.root, `runs.${name}`);
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
  }

  async run(
    args: string[],
    options: { env?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<RunResult> {
    for (const [name, value] of Object.entries(options.env ?? {})) {
      if (isSecretName(name)) this.noteSecrets(value);
    }
    // setsid: no controlling terminal, as under CI or a GUI; stdin is /dev/null.
    const child = spawn('setsid', ['--wait', process.execPath, cli, ...args], {
      env: { ...this.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = await collectOutput(child, options.timeoutMs ?? 45_000);
    this.noteSecrets(...tokensIn(r.stdout));
    return r;
  }

  /** The refresh token the store holds for `profile`, read at rest (undefined when there is none). */
  storedRefreshToken(profile = 'dev'): string | undefined {
    const store = TokenStore.open(this.databaseFile, this.keyFile);
    try {
      return store.load(profile)?.tokens?.refreshToken;
    } finally {
      store.close();
    }
  }

  /** Pids of every daemon process started for this environment (by its socket path in the environment). */
  daemonPids(): Promise<number[]> {
    return new Promise((resolvePromise) => {
      execFile('pgrep', ['-f', 'dist/daemon/main.js'], (_error, out) => {
        const pids = out
          .split('\n')
          .filter(Boolean)
          .map(Number)
          .filter((pid) => {
            try {
              return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(
                `XDG_RUNTIME_DIR=${this.env.XDG_RUNTIME_DIR}\0`,
              );
            } catch {
              return false;
            }
          });
        resolvePromise(pids);
      });
    });
  }

  async killDaemon(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    for (const pid of await this.daemonPids()) {
      try {
        process.kill(pid, signal);
      } catch {
        // Gone.
      }
      await waitUntil(`daemon ${pid} to exit`, () => !pidAlive(pid));
    }
  }

  /** Adds secrets (a password typed into a terminal, a token read another way) to the scan at cleanup. */
  noteSecrets(...values: string[]): void {
    for (const v of values) if (v) this.secrets.add(v);
  }

  /**
   * Stops the daemon, scans what cog-token left for secrets (secret-scan.ts: a hit fails the test and keeps
   * the directory for inspection), then removes the environment.
   */
  async cleanup(): Promise<void> {
    await this.killDaemon('SIGTERM');
    const report = scanEnvironment(this);
    if (report.hits.length > 0) {
      const message = `secrets at rest or in logs under ${this.root}:\n  ${report.hits.join('\n  ')}`;
      if (process.env.COG_TOKEN_TEST_SCAN !== 'report') throw new Error(message);
      process.stderr.write(`${message}\n`);
    }
    rmSync(this.root, { recursive: true, force: true });
  }

  /** Every file under the environment, for scanning. */
  files(): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (entry.isFile()) out.push(p);
      }
    };
    walk(this.root);
    return out;
  }
}
