/**
 * The browser sign-in's logic in-process (issue 13), on the fake clock and a fake pool domain: the daemon's
 * real listener on a loopback port plays the redirect target, fetch plays the browser. PKCE and state, the
 * paste, single flight with joiners that wait as long as a browser sign-in may take, the timeout freeing the
 * port, and refresh and logout through the domain.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthResult } from '../../src/daemon/cognito-gateway.js';
import { ConfigSource } from '../../src/daemon/config-source.js';
import type { CodeExchange, ManagedLoginGateway } from '../../src/daemon/managed-login-gateway.js';
import type { Asker, AskOutcome } from '../../src/daemon/profiles/sign-in-flight.js';
import { profileUseCases } from '../../src/daemon/profiles/use-cases.js';
import type { QuestionSpec } from '../../src/daemon/sign-in/context.js';
import { TokenStore } from '../../src/daemon/token-store.js';
import type { ProfileConfig } from '../../src/shared/config.js';
import { FakeClock, FakeCognito, settle } from './harness.js';

function jwt(claims: object): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none' })}.${part(claims)}.sig`;
}

class FakeDomain implements ManagedLoginGateway {
  readonly exchanges: CodeExchange[] = [];
  readonly refreshes: string[] = [];
  readonly revoked: string[] = [];
  private n = 0;
  constructor(private readonly clock: FakeClock) {}

  private tokens(refreshToken?: string): AuthResult {
    const iat = Math.floor(this.clock.now() / 1000);
    const claims = { iat, exp: iat + 3600, n: ++this.n, 'cognito:username': 'Google_1' };
    return {
      idToken: jwt(claims),
      accessToken: jwt({ ...claims, username: 'Google_1' }),
      ...(refreshToken ? { refreshToken } : {}),
    };
  }

  async exchangeCode(_p: ProfileConfig, exchange: CodeExchange): Promise<AuthResult> {
    this.exchanges.push(exchange);
    return this.tokens(`refresh-${exchange.code}`);
  }

  async refresh(_p: ProfileConfig, refreshToken: string): Promise<AuthResult> {
    this.refreshes.push(refreshToken);
    return this.tokens();
  }

  async revoke(_p: ProfileConfig, refreshToken: string): Promise<void> {
    this.revoked.push(refreshToken);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether the port can be bound (nobody holds it). */
async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (ok) await new Promise<void>((resolve) => server.close(() => resolve()));
  return ok;
}

/** A client that can open a browser: it records the question and leaves it open (no terminal). */
function browserAsker(answer?: (spec: QuestionSpec) => string): Asker & { asked: QuestionSpec[] } {
  const asked: QuestionSpec[] = [];
  return {
    abilities: { tty: answer !== undefined, commands: false, browser: true },
    closed: false,
    asked,
    ask(spec): Promise<AskOutcome> {
      asked.push(spec);
      return answer ? Promise.resolve({ value: answer(spec) }) : new Promise(() => {});
    },
  };
}

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

async function world() {
  const dir = mkdtempSync(join(tmpdir(), 'cog-unit-browser-'));
  const file = join(dir, 'config.toml');
  const port = await freePort();
  const redirect = `http://127.0.0.1:${port}/cb`;
  writeFileSync(
    file,
    `[profiles.web]\nauth_flow = "BROWSER"\ndomain = "http://127.0.0.1:9"\nclient_id = "unitclient"\nredirect_uri = "${redirect}"\n`,
    { mode: 0o600 },
  );
  const clock = new FakeClock();
  const domain = new FakeDomain(clock);
  const store = TokenStore.open(join(dir, 'data', 'tokens.db'), join(dir, 'state', 'store.key'), {
    keyStore: 'file',
    clock,
  });
  const daemon = profileUseCases(new ConfigSource(file), store, new FakeCognito(clock), clock, {
    managedLogin: domain,
  });
  cleanup = () => {
    daemon.shutdown();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { clock, domain, daemon, port, redirect };
}

/** The browser, back from the sign-in page: a GET of the redirect URI. */
async function redirectBack(redirect: string, query: Record<string, string>) {
  const response = await fetch(`${redirect}?${new URLSearchParams(query)}`);
  return { status: response.status, body: await response.text() };
}

async function until<T>(read: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = read();
    if (value !== undefined) return value;
    await settle();
  }
  throw new Error('never came');
}

describe('browser sign-in in-process', () => {
  it('asks once with a fresh state and an S256 challenge; the code is redeemed with its verifier', async () => {
    const w = await world();
    const first = browserAsker();
    const gets = [w.daemon.get('web', first, {})];
    const spec = await until(() => first.asked[0]);
    expect(spec.question).toBe('browser');
    expect(spec.state).toMatch(/^[\w-]{43}$/);
    expect(spec.codeChallenge).toMatch(/^[\w-]{43}$/);
    // Four more callers join, without a --timeout: a minute passes (a person typing) and they still wait.
    const joiners = Array.from({ length: 4 }, () => browserAsker());
    gets.push(...joiners.map((a) => w.daemon.get('web', a, {})));
    await w.clock.advance(60_000);
    const page = await redirectBack(w.redirect, { code: 'c1', state: spec.state as string });
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/Signed in to cog-token profile web\. You can close this tab\./);
    const results = await Promise.all(gets);
    expect(new Set(results.map((r) => r.token)).size).toBe(1);
    expect(page.body).not.toContain(results[0]?.token.slice(0, 20));
    expect(joiners.every((a) => a.asked.length === 0)).toBe(true);
    expect(w.domain.exchanges).toHaveLength(1);
    const exchange = w.domain.exchanges[0] as CodeExchange;
    expect(exchange).toMatchObject({ code: 'c1', redirectUri: w.redirect });
    expect(createHash('sha256').update(exchange.verifier).digest('base64url')).toBe(spec.codeChallenge);
    expect(await portFree(w.port)).toBe(true);
    // A second sign-in gets another state.
    const again = browserAsker();
    const forced = w.daemon.get('web', again, { forceSignIn: true });
    const second = await until(() => again.asked[0]);
    expect(second.state).not.toBe(spec.state);
    await redirectBack(w.redirect, { code: 'c2', state: second.state as string });
    await forced;
  });

  it('a pasted redirect signs in; a pasted address that is not one is refused', async () => {
    const w = await world();
    const pasting = browserAsker((spec) => `${w.redirect}?code=pasted&state=${spec.state}`);
    const r = await w.daemon.get('web', pasting, {});
    expect(r.token).toMatch(/^ey/);
    expect(w.domain.exchanges.map((e) => e.code)).toEqual(['pasted']);
    expect(await portFree(w.port)).toBe(true);
    const wrong = browserAsker(() => 'http://127.0.0.1:1/elsewhere?code=x');
    await expect(w.daemon.get('web', wrong, { forceSignIn: true })).rejects.toThrow(
      /the address pasted is not the redirect to http:\/\/127\.0\.0\.1:\d+\/cb/,
    );
    expect(await portFree(w.port)).toBe(true);
  });

  it('gives up after 300 s (or --timeout), freeing the port', async () => {
    const w = await world();
    const waiting = w.daemon.get('web', browserAsker(), {});
    const outcome = expect(waiting).rejects.toThrow(/did not finish within 300 s/);
    await settle();
    expect(await portFree(w.port)).toBe(false);
    await w.clock.advance(300_000);
    await outcome;
    expect(await portFree(w.port)).toBe(true);
    const short = w.daemon.get('web', browserAsker(), { timeout: 7 });
    const shortOutcome = expect(short).rejects.toThrow(/did not finish within 7 s/);
    await settle();
    await w.clock.advance(7_000);
    await shortOutcome;
  });

  it('refreshes through the domain (no pool), and logout revokes there', async () => {
    const w = await world();
    const a = browserAsker((spec) => `${w.redirect}?code=r1&state=${spec.state}`);
    const first = await w.daemon.get('web', a, {});
    await w.clock.advance(1_000);
    // The whole lifetime (3600 s) is the most --min-valid may ask: a second later, only a refresh meets it.
    const refreshed = await w.daemon.get('web', browserAsker(), { minValid: 3600 });
    expect(refreshed.token).not.toBe(first.token);
    expect(w.domain.refreshes).toEqual(['refresh-r1']);
    expect(a.asked).toHaveLength(1);
    // The devices API is the pool's: a profile without one says what to add.
    await expect(w.daemon.devices('web')).rejects.toThrow(/names no user_pool_id: add user_pool_id/);
    const out = await w.daemon.logout('web');
    expect(out).toMatchObject({ revoked: true, deleted: true });
    expect(w.domain.revoked).toEqual(['refresh-r1']);
  });
});
