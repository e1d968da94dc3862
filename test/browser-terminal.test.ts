/**
 * Issue 13 at a real terminal (tmux): `T=$(cog-token get web)` for a BROWSER profile shows the sign-in URL
 * on the terminal (never on stdout). Without any way to open a browser (the SSH case) the person opens the
 * URL elsewhere, the browser's redirect to localhost fails there, and the address it was sent to is pasted
 * back; with $BROWSER the browser is opened and the daemon's listener finishes the sign-in while the paste
 * prompt waits (and is then put away). The browser is Debian's Chromium driven by browser-driver.mjs.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CognitoDouble } from './double/cognito-double.js';
import {
  browserCommand,
  browserEnv,
  browserProcesses,
  chromiumInstalled,
  readBrowserLog,
  waitForBrowserExit,
} from './support/browser.js';
import { type CogEnv, cli, waitUntil } from './support/cog.js';
import { Cleanups } from './support/suite.js';
import { Tmux } from './support/tmux.js';

const PASSWORD = 'Terminal-Browser-9';
const cleanups = new Cleanups();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function setup(): Promise<{
  double: CognitoDouble;
  env: CogEnv;
  dir: string;
  marker: string;
  log: string;
  redirect: string;
}> {
  expect(chromiumInstalled(), 'Debian chromium at /usr/bin/chromium').toBe(true);
  const double = await CognitoDouble.start();
  cleanups.push(() => double.stop());
  double.addUser({ username: 'alice', password: PASSWORD });
  const redirect = `http://localhost:${await freePort()}/callback`;
  double.managedLogin.registerCallbackUrl(redirect);
  const env = cleanups.newEnv();
  env.noteSecrets(PASSWORD);
  env.writeConfig(
    [
      '[profiles.web]',
      'auth_flow = "BROWSER"',
      `domain = "${double.domain}"`,
      `client_id = "${double.clientId}"`,
      `redirect_uri = "${redirect}"`,
      '',
    ].join('\n'),
  );
  const dir = mkdtempSync(join(tmpdir(), 'cog-browser-tty-'));
  const marker = randomUUID();
  cleanups.push(async () => {
    await waitUntil('the browser to close', () => browserProcesses(marker, dir).length === 0, 30_000);
    rmSync(dir, { recursive: true, force: true });
  });
  return { double, env, dir, marker, log: join(dir, 'driver.log'), redirect };
}

/** `T=$(cog-token get web)` in tmux, wide enough that the URL stays on one screen line. */
async function getInTmux(env: CogEnv, prefix: string): Promise<Tmux> {
  const tmux = await Tmux.start(
    `${prefix} T=$('${process.execPath}' '${cli}' get web --timeout 120); echo "rc=$? len=\${#T} head=\${T:0:3}"`,
    { env: env.env, width: 400, height: 40 },
  );
  cleanups.push(() => tmux.kill());
  return tmux;
}

describe('browser sign-in at a terminal', { timeout: 180_000 }, () => {
  it('no browser here (SSH): the URL is shown, and the redirected address pasted back signs in', async () => {
    const { double, env, dir, marker, log, redirect } = await setup();
    const tmux = await getInTmux(env, 'unset BROWSER DISPLAY WAYLAND_DISPLAY;');
    const screen = await tmux.waitFor(/Paste the address your browser was sent to .*: ?$/m, 30_000);
    const url = /To sign in to profile web, visit: (http\S+)/.exec(screen)?.[1];
    expect(url, screen).toBeDefined();
    expect(url).toContain(`${double.domain}/oauth2/authorize?`);
    // The person opens it on another machine: the sign-in works, the redirect to localhost does not.
    const [node, driver] = browserCommand().split(' ');
    const person = spawn(node as string, [driver as string, url as string], {
      env: {
        ...process.env,
        ...browserEnv({
          dir,
          log,
          marker,
          action: 'capture',
          mode: 'foreground',
          username: 'alice',
          password: PASSWORD,
          timeoutMs: 120_000,
        }),
      },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => person.once('exit', resolve));
    expect(await exited).toBe(0);
    const captured = readBrowserLog(log).find((e) => e.event === 'captured')?.url as string;
    expect(captured.startsWith(`${redirect}?`)).toBe(true);
    await tmux.type(captured);
    await tmux.enter();
    const done = await tmux.waitFor(/rc=\d+ len=\d+ head=/, 30_000);
    const token = (await env.run(['get', 'web', '--no-input'])).stdout.trim();
    expect(token).toMatch(/^eyJ/);
    expect(done).toContain(`rc=0 len=${token.length} head=eyJ`);
    expect(done).not.toContain(token.slice(10, 40));
    expect(double.managedLogin.tokenRequests('authorization_code')).toBe(1);
  });

  it('with $BROWSER: "Opening your browser ..." on the terminal, the listener finishes, the paste prompt goes away', async () => {
    const { double, env, dir, marker, log } = await setup();
    const vars = browserEnv({
      dir,
      log,
      marker,
      action: 'signin',
      username: 'alice',
      password: PASSWORD,
      timeoutMs: 120_000,
    });
    const exports = Object.entries({ ...vars, BROWSER: browserCommand() })
      .map(([k, v]) => `export ${k}='${v}';`)
      .join(' ');
    const tmux = await getInTmux(env, exports);
    await tmux.waitFor(
      /Opening your browser to sign in to profile web; if it does not open, visit: http\S+\/oauth2\/authorize\?/,
      30_000,
    );
    const done = await tmux.waitFor(/rc=\d+ len=\d+ head=/, 90_000);
    expect(done).toMatch(/rc=0 len=\d+ head=eyJ/);
    await waitForBrowserExit(log);
    expect(readBrowserLog(log).filter((e) => e.event === 'start')).toHaveLength(1);
    expect(double.managedLogin.tokenRequests('authorization_code')).toBe(1);
  });
});
