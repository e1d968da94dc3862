/**
 * Drives a real terminal for tests: a private tmux server (its own socket in a temp directory, its own
 * config, so the user's tmux is never touched) running one command through bash. The pane stays on screen
 * after the command exits (remain-on-exit), so its last output can still be captured.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TmuxOptions {
  /** Extra environment for the command (on top of this process's environment). */
  env?: Record<string, string>;
  cwd?: string;
  width?: number;
  height?: number;
}

export class Tmux {
  readonly #dir: string;
  readonly #socket: string;
  readonly #target = 'test';
  readonly #env: NodeJS.ProcessEnv;
  #killed = false;

  private constructor(dir: string, env: NodeJS.ProcessEnv) {
    this.#dir = dir;
    this.#socket = join(dir, 'sock');
    this.#env = env;
  }

  /** Starts `bash --norc --noprofile -c command` in a new detached session of a new private server. */
  static async start(command: string, opts: TmuxOptions = {}): Promise<Tmux> {
    const dir = mkdtempSync(join(tmpdir(), 'cog-tmux-'));
    const config = join(dir, 'tmux.conf');
    writeFileSync(
      config,
      ['set -g remain-on-exit on', 'set -g status off', 'set -g history-limit 5000', ''].join('\n'),
    );
    // tmux itself wants a TERM even with -d; CI may have none. TMUX is unset in case tests run inside tmux.
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: process.env.TERM || 'xterm-256color' };
    delete env.TMUX;
    const tmux = new Tmux(dir, env);
    const vars = Object.entries({ LANG: 'C.UTF-8', ...opts.env }).map(([k, v]) => `${k}=${v}`);
    try {
      await tmux.#tmux(
        ['-f', config, 'new-session', '-d', '-s', tmux.#target],
        ['-x', String(opts.width ?? 100), '-y', String(opts.height ?? 30), '-c', opts.cwd ?? process.cwd()],
        ['--', 'env', ...vars, 'bash', '--norc', '--noprofile', '-c', command],
      );
    } catch (error) {
      await tmux.kill();
      throw error;
    }
    return tmux;
  }

  /** The visible screen, wrapped lines joined, trailing blank lines removed. */
  async capture(): Promise<string> {
    const out = await this.#tmux(['capture-pane', '-p', '-J', '-t', this.#target]);
    return out.replace(/\s+$/, '');
  }

  /** Polls the screen until it matches; on timeout throws with the last screen content. */
  async waitFor(pattern: RegExp | string, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    let lastError: unknown;
    for (;;) {
      try {
        screen = await this.capture();
        if (typeof pattern === 'string' ? screen.includes(pattern) : pattern.test(screen)) return screen;
      } catch (error) {
        lastError = error;
      }
      if (Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const why = lastError ? `\nlast tmux error: ${String(lastError)}` : '';
    throw new Error(
      `timed out after ${timeoutMs} ms waiting for ${String(pattern)}; screen:\n${screen}${why}`,
    );
  }

  /** Types text literally (no key-name lookup). */
  async type(text: string): Promise<void> {
    await this.#tmux(['send-keys', '-t', this.#target, '-l', '--', text]);
  }

  /** Sends tmux key names: 'Enter', 'BSpace', 'C-c', 'C-u', 'Left'... */
  async keys(...names: string[]): Promise<void> {
    await this.#tmux(['send-keys', '-t', this.#target, ...names]);
  }

  async enter(): Promise<void> {
    await this.keys('Enter');
  }

  /** Kills this private server (and so its session); idempotent, never throws. */
  async kill(): Promise<void> {
    if (this.#killed) return;
    this.#killed = true;
    try {
      await this.#tmux(['kill-server']);
    } catch {}
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #tmux(...args: string[][]): Promise<string> {
    const { stdout } = await run('tmux', ['-u', '-S', this.#socket, ...args.flat()], {
      env: this.#env,
      timeout: 10_000,
    });
    return stdout;
  }
}
