/**
 * Test helpers around ./browser-driver.mjs, the program that plays a person at a real browser (Debian's
 * Chromium, headless) for managed-login tests: the command string to use as `$BROWSER` / `browser_command`,
 * its environment, its log, a loopback listener that plays the redirect target, and the check that no
 * Chromium process is left behind.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

/** Debian's package `chromium`; CI installs it (`apt-get install -y chromium`). */
const CHROMIUM = '/usr/bin/chromium';
const DRIVER = fileURLToPath(new URL('./browser-driver.mjs', import.meta.url));

export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM);
}

/**
 * The driver as a plain command string, the way a user writes `$BROWSER` or `browser_command`; the caller
 * appends the URL as the last argument. No quoting needed: neither path holds a space (checked).
 */
export function browserCommand(): string {
  const command = `${process.execPath} ${DRIVER}`;
  if (/\s/.test(process.execPath) || /\s/.test(DRIVER)) throw new Error(`a path holds a space: ${command}`);
  return command;
}

export type BrowserAction = 'signin' | 'federated' | 'deny' | 'capture' | 'hold';

export interface BrowserEnvOptions {
  /** A directory of the test's own: the driver's TMPDIR (its profile dir goes there) . */
  dir: string;
  /** The driver's log (JSON lines). */
  log: string;
  /** A marker every process of this run inherits, for {@link browserProcesses}. */
  marker: string;
  action?: BrowserAction;
  username?: string;
  password?: string;
  /** Default `detached` (the command returns at once and a child drives the browser). */
  mode?: 'detached' | 'foreground';
  timeoutMs?: number;
}

/** The environment variables the driver reads (to merge into the environment of whoever runs it). */
export function browserEnv(options: BrowserEnvOptions): Record<string, string> {
  return {
    TMPDIR: options.dir,
    COG_TEST_BROWSER_LOG: options.log,
    COG_TEST_BROWSER_RUN: options.marker,
    COG_TEST_BROWSER_ACTION: options.action ?? 'signin',
    COG_TEST_BROWSER_MODE: options.mode ?? 'detached',
    COG_TEST_BROWSER_TIMEOUT_MS: String(options.timeoutMs ?? 45_000),
    ...(options.username !== undefined ? { COG_TEST_USERNAME: options.username } : {}),
    ...(options.password !== undefined ? { COG_TEST_PASSWORD: options.password } : {}),
  };
}

export interface BrowserLogEntry {
  event: string;
  pid: number;
  [key: string]: unknown;
}

export function readBrowserLog(file: string): BrowserLogEntry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as BrowserLogEntry);
}

/** Polls the log until the driver that drives the browser wrote `exit`; returns the whole log. */
export async function waitForBrowserExit(file: string, timeoutMs = 60_000): Promise<BrowserLogEntry[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const entries = readBrowserLog(file);
    if (entries.some((entry) => entry.event === 'exit')) return entries;
    if (Date.now() > deadline) {
      throw new Error(`the browser driver did not finish; its log:\n${JSON.stringify(entries, null, 1)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Every live process of one test run's browsers: those with `COG_TEST_BROWSER_RUN=<marker>` in their
 * environment (the driver, Chromium's main process, its crashpad handlers, which detach from the tree) and
 * those whose command line names `dir` (Chromium's zygotes, renderers, GPU and utility processes: they get a
 * cleaned environment, but each carries `--user-data-dir=<dir>/cog-browser-...`).
 */
export function browserProcesses(marker: string, dir: string): { pid: number; command: string }[] {
  const needle = Buffer.from(`\0COG_TEST_BROWSER_RUN=${marker}\0`);
  const found: { pid: number; command: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const environ = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${name}/environ`)]);
      if (!environ.includes(needle) && !command.includes(dir)) continue;
      // A zombie (exited, not yet reaped) holds no memory: it does not count as left running.
      const state = /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${name}/stat`, 'utf8'))?.[1];
      if (state !== 'Z') found.push({ pid: Number(name), command });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** `pgrep -f <pattern>`: the PIDs whose command line contains the pattern (e.g. a profile directory). */
export function pgrep(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', '--', pattern], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // exit 1: no process matched
  }
}

export interface RedirectListener {
  port: number;
  /** `http://localhost:<port><path>`: what a client registers and sends as redirect_uri. */
  uri: string;
  /** Every request that reached the listener, in order. */
  readonly requests: URL[];
  /** The query of the first request to the redirect path. */
  redirected(timeoutMs?: number): Promise<URLSearchParams>;
  close(): Promise<void>;
}

/**
 * A loopback HTTP listener on 127.0.0.1 playing the redirect target of a sign-in (what cog-token will run):
 * it answers the redirect path with a short page ("Signed in; you can close this tab") and 404 otherwise.
 */
export async function startRedirectListener(path = '/callback'): Promise<RedirectListener> {
  const requests: URL[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(url);
    const ours = url.pathname === path;
    const body = ours
      ? '<!doctype html><title>Signed in</title><p>Sign-in finished. You can close this tab.</p>'
      : 'not found';
    res.writeHead(ours ? 200 : 404, { 'content-type': 'text/html; charset=utf-8', connection: 'close' });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    uri: `http://localhost:${port}${path}`,
    requests,
    async redirected(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = requests.find((url) => url.pathname === path);
        if (hit) return hit.searchParams;
        if (Date.now() > deadline) throw new Error(`no redirect reached ${path} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
