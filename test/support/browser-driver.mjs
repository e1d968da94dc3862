#!/usr/bin/env node
// @ts-check
/**
 * A person at a browser, for tests of managed login (issue 13): usable as `$BROWSER` or `browser_command`,
 * with the URL as the last argument:
 *
 *     BROWSER="node test/support/browser-driver.mjs"   (or the file itself: it is executable)
 *
 * It launches Debian's Chromium (/usr/bin/chromium) headless through playwright-core (which downloads no
 * browser), in a fresh profile directory under $TMPDIR that it removes, opens the URL, and then, by
 * COG_TEST_BROWSER_ACTION:
 *
 *   signin (default) fills `form#signin` with COG_TEST_USERNAME / COG_TEST_PASSWORD and submits it;
 *   federated       clicks the `button[name=federated]` whose value is COG_TEST_USERNAME (the IdP stand-in);
 *   deny            clicks Cancel (the double redirects with error=access_denied);
 *   capture         signs in like signin but does not follow the redirect: it logs the URL the browser was
 *                   sent to and shows an error page instead (the SSH case: the user copies the address);
 *   hold            loads the page and keeps the browser open until SIGTERM or the timeout (a user who never
 *                   finishes: for timeout tests, and to see the browser's processes while it runs).
 *
 * For signin, federated and deny it follows the redirect to the loopback redirect URI (taken from the URL's
 * `redirect_uri`) and waits until that page has loaded. Then it closes the browser: always, on failure and on
 * SIGTERM/SIGINT/SIGHUP too, so that no Chromium process outlives it.
 *
 * Detached by default, like a real browser command (xdg-open, `firefox --new-window` return once the browser
 * is up): the process started by the caller forks a child that drives the browser, and exits 0 at once.
 * COG_TEST_BROWSER_MODE=foreground drives the browser in the process itself and exits 0 when done, 1 on a
 * failure.
 *
 * COG_TEST_BROWSER_LOG names a file that gets one JSON line per step (`start`, `page`, `submitted`,
 * `redirected`, `captured`, `failed`, `closed`, `exit`), with the driver's pid; the password never appears in
 * it, and neither does the code, except in `captured` (that is what the user would paste). Nothing is
 * written to stdout. COG_TEST_BROWSER_TIMEOUT_MS (default 30000) bounds the whole run.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHROMIUM = process.env.COG_TEST_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const CHILD_FLAG = '--cog-test-browser-child';

/** @param {Record<string, unknown>} entry */
function log(entry) {
  const file = process.env.COG_TEST_BROWSER_LOG;
  if (!file) return;
  appendFileSync(file, `${JSON.stringify({ ...entry, pid: process.pid, at: new Date().toISOString() })}\n`);
}

/** @param {unknown} error */
function oneLine(error) {
  return String(error instanceof Error ? error.message : error).split('\n')[0] ?? '';
}

async function main() {
  const args = process.argv.slice(2);
  const child = args[0] === CHILD_FLAG;
  const url = args.at(-1);
  if (!url || url === CHILD_FLAG) {
    process.stderr.write('browser-driver: give the URL to open as the last argument\n');
    return 2;
  }
  if (!child && process.env.COG_TEST_BROWSER_MODE !== 'foreground') {
    const script = fileURLToPath(import.meta.url);
    const driver = spawn(process.execPath, [script, CHILD_FLAG, url], {
      detached: true,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: process.env,
    });
    log({ event: 'forked', child: driver.pid });
    driver.unref();
    return 0;
  }
  return drive(url);
}

/** @param {string} url */
async function drive(url) {
  const action = process.env.COG_TEST_BROWSER_ACTION ?? 'signin';
  const timeout = Number(process.env.COG_TEST_BROWSER_TIMEOUT_MS ?? 30_000);
  const redirectUri = new URL(url).searchParams.get('redirect_uri') ?? '';
  log({ event: 'start', action, url });
  const profile = mkdtempSync(join(tmpdir(), 'cog-browser-'));
  /** @type {import('playwright-core').BrowserContext | undefined} */
  let context;
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    try {
      await context?.close();
    } catch (error) {
      log({ event: 'close-failed', message: oneLine(error) });
    }
    rmSync(profile, { recursive: true, force: true });
    log({ event: 'closed' });
  };
  for (const signal of /** @type {const} */ (['SIGTERM', 'SIGINT', 'SIGHUP'])) {
    process.once(signal, () => {
      log({ event: 'signal', signal });
      close().finally(() => {
        log({ event: 'exit', code: 1 });
        process.exit(1);
      });
    });
  }
  const watchdog = setTimeout(() => {
    log({ event: 'failed', message: `gave up after ${timeout} ms` });
    close().finally(() => {
      log({ event: 'exit', code: 1 });
      process.exit(1);
    });
  }, timeout);
  let code = 0;
  try {
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      timeout,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(timeout);
    /** @type {string | undefined} */
    let captured;
    if (action === 'capture') {
      // The sign-in form's answer is the redirect to the client: take its Location and go no further, as a
      // browser on another machine would (nothing listens there). Playwright routes only the first request
      // of a redirect chain, so the form POST is the one to catch.
      await page.route('**/login', async (route) => {
        const response = await route.fetch({ maxRedirects: 0 });
        const location = response.headers().location;
        if (response.status() === 302 && location && redirectUri !== '' && location.startsWith(redirectUri)) {
          captured = location;
          log({ event: 'captured', url: captured });
          await route.fulfill({
            status: 200,
            contentType: 'text/html',
            body: '<title>Unable to connect</title><p>This site cannot be reached.</p>',
          });
        } else {
          await route.fulfill({ response });
        }
      });
    }
    await page.goto(url, { waitUntil: 'load' });
    log({ event: 'page', title: await page.title(), url: page.url().split('?')[0] });
    if (action === 'hold') {
      log({ event: 'holding' });
      await new Promise(() => {}); // until a signal or the watchdog ends the process
    }
    // Set up before the click (the navigation may finish before the click returns); never left unobserved.
    const arrived =
      redirectUri && action !== 'capture'
        ? page.waitForURL((target) => target.href.startsWith(redirectUri), { waitUntil: 'load' })
        : Promise.resolve();
    arrived.catch(() => {});
    if (action === 'signin' || action === 'capture') {
      await page.fill('form#signin input[name=username]', process.env.COG_TEST_USERNAME ?? '');
      await page.fill('form#signin input[name=password]', process.env.COG_TEST_PASSWORD ?? '');
      await page.click('form#signin button[type=submit]');
    } else if (action === 'federated') {
      await page.click(`button[name=federated][value="${process.env.COG_TEST_USERNAME ?? ''}"]`);
    } else if (action === 'deny') {
      await page.click('form#cancel button[type=submit]');
    } else {
      throw new Error(`unknown COG_TEST_BROWSER_ACTION ${action}`);
    }
    log({ event: 'submitted', action, username: process.env.COG_TEST_USERNAME });
    if (action === 'capture') {
      await waitFor(() => captured !== undefined, timeout);
    } else {
      await arrived;
      const landed = new URL(page.url());
      log({
        event: 'redirected',
        url: `${landed.origin}${landed.pathname}`,
        parameters: [...landed.searchParams.keys()],
        state: landed.searchParams.get('state'),
        error: landed.searchParams.get('error'),
        body: (await page.textContent('body'))?.slice(0, 200),
      });
    }
  } catch (error) {
    code = 1;
    log({ event: 'failed', message: oneLine(error) });
    process.stderr.write(`browser-driver: ${oneLine(error)}\n`);
  } finally {
    clearTimeout(watchdog);
    await close();
    log({ event: 'exit', code });
  }
  return code;
}

/**
 * @param {() => boolean} condition
 * @param {number} timeout
 */
async function waitFor(condition, timeout) {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

process.on('unhandledRejection', (reason) => {
  log({ event: 'failed', message: `unhandled: ${oneLine(reason)}` });
});
process.exit(await main());
