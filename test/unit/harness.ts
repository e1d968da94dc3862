/**
 * The fast tier's parts: a fake clock (time moves only when a test advances it; due timers fire in order),
 * a fake Cognito gateway (the daemon's port, answering from scripts a test sets), and the real profile logic
 * wired as main.ts wires it, over a real ConfigSource and TokenStore in a temp directory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock, Timer } from '../../src/daemon/clock.js';
import {
  type AuthResult,
  type AuthStep,
  type Caller,
  CognitoCallError,
  type CognitoGateway,
  type SignInStart,
} from '../../src/daemon/cognito-gateway.js';
import { ConfigSource } from '../../src/daemon/config-source.js';
import type { IdentityGateway } from '../../src/daemon/identity-gateway.js';
import type { Asker, AskOutcome } from '../../src/daemon/profiles/sign-in-flight.js';
import { profileUseCases } from '../../src/daemon/profiles/use-cases.js';
import { type RefreshApi, TokenStore } from '../../src/daemon/token-store.js';
import type { ProfileConfig } from '../../src/shared/config.js';

interface FakeTimer {
  at: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private readonly timers = new Set<FakeTimer>();
  constructor(private t = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): Timer {
    const timer = { at: this.t + Math.max(0, ms), fn };
    this.timers.add(timer);
    return timer;
  }

  clearTimer(timer: Timer | undefined): void {
    this.timers.delete(timer as FakeTimer);
  }

  /** Timers not yet fired, soonest first (epoch ms). */
  pending(): number[] {
    return [...this.timers].map((t) => t.at).sort((a, b) => a - b);
  }

  /** Moves time on by `ms`, firing each timer that falls due on the way and letting its work settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = [...this.timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers.delete(due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
    await settle();
  }
}

/** Lets pending promise chains run (the fakes answer without I/O). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

function jwt(claims: object): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none' })}.${part(claims)}.sig`;
}

export const transient = () =>
  new CognitoCallError('NetworkingError', 'transient', 'NetworkingError: ECONNREFUSED');
export const refused = () =>
  new CognitoCallError(
    'NotAuthorizedException',
    'rejected',
    'NotAuthorizedException: Refresh Token has been revoked',
  );

type Script = (refreshToken: string) => AuthResult | Promise<AuthResult>;

/** Cognito as the daemon's gateway port sees it. Every call is counted; refreshes follow `onRefresh`. */
export class FakeCognito implements CognitoGateway {
  readonly calls: string[] = [];
  /** Seconds the tokens it hands out live. */
  lifetime = 3600;
  private serial = 0;
  /** The answer to each refresh (both APIs); by default new id/access tokens, the same refresh token. */
  onRefresh: Script = () => this.tokens();
  /** GetTokensFromRefreshToken exists (else it answers as an emulator that lacks it). */
  hasGetTokens = true;
  /** Holds each sign-in until the test lets it go. */
  signInGate: Promise<void> = Promise.resolve();

  constructor(private readonly clock: FakeClock) {}

  tokens(refreshToken?: string): AuthResult {
    const iat = Math.floor(this.clock.now() / 1000);
    const n = ++this.serial;
    const claims = { iat, exp: iat + this.lifetime, n };
    return {
      idToken: jwt({ ...claims, 'cognito:username': 'alice-id' }),
      accessToken: jwt({ ...claims, username: 'alice-id' }),
      ...(refreshToken ? { refreshToken } : {}),
    };
  }

  async startSignIn(_p: ProfileConfig, _caller: Caller, start: SignInStart): Promise<AuthStep> {
    this.calls.push(`startSignIn ${start.flow}`);
    await this.signInGate;
    return { kind: 'tokens', result: this.tokens(`refresh-${this.serial + 1}`) };
  }

  async refresh(_p: ProfileConfig, api: RefreshApi, refreshToken: string): Promise<AuthResult> {
    this.calls.push(`${api} ${refreshToken}`);
    if (api === 'GetTokensFromRefreshToken' && !this.hasGetTokens) {
      throw new CognitoCallError('Unsupported', 'rejected', 'Unsupported: not implemented');
    }
    return this.onRefresh(refreshToken);
  }

  async revoke(_p: ProfileConfig, refreshToken: string): Promise<void> {
    this.calls.push(`revoke ${refreshToken}`);
  }

  count(prefix: string): number {
    return this.calls.filter((c) => c.startsWith(prefix)).length;
  }

  answerChallenge = unused;
  associateSoftwareToken = unused;
  verifySoftwareToken = unused;
  confirmDevice = unused;
  listDevices = unused;
  forgetDevice = unused;
}

function unused(): never {
  throw new Error('not used by these tests');
}

/** A client at a terminal that types `pw`; `answers: false` is one that can answer nothing (--no-input). */
export function asker(answers = true): Asker & { asked: number } {
  return {
    abilities: answers ? { tty: true, commands: false } : { tty: false, commands: false },
    closed: false,
    asked: 0,
    async ask(): Promise<AskOutcome> {
      this.asked++;
      return { value: 'pw' };
    },
  };
}

export interface World {
  clock: FakeClock;
  cognito: FakeCognito;
  store: TokenStore;
  config: ConfigSource;
  daemon: ReturnType<typeof profileUseCases>;
  /** Rewrites the profile's config (e.g. another username) and has the daemon read it. */
  configure(extra?: Record<string, string | number>): void;
  close(): void;
}

/** A daemon's profile logic for profile `dev` (USER_PASSWORD_AUTH), on a fake clock and a fake Cognito. */
export function world(extra: Record<string, string | number> = {}, identity?: IdentityGateway): World {
  const dir = mkdtempSync(join(tmpdir(), 'cog-unit-'));
  const file = join(dir, 'config.toml');
  const configure = (more: Record<string, string | number> = {}) => {
    const keys = { username: 'alice', ...extra, ...more };
    const lines = Object.entries(keys).map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
    writeFileSync(
      file,
      `[profiles.dev]\nregion = "eu-west-1"\nuser_pool_id = "eu-west-1_Unit"\nclient_id = "unitclient"\nauth_flow = "USER_PASSWORD_AUTH"\n${lines.join('\n')}\n`,
      { mode: 0o600 },
    );
  };
  configure();
  const clock = new FakeClock();
  const cognito = new FakeCognito(clock);
  const config = new ConfigSource(file);
  const store = TokenStore.open(join(dir, 'data', 'tokens.db'), join(dir, 'state', 'store.key'), {
    keyStore: 'file',
    clock,
  });
  const daemon = profileUseCases(config, store, cognito, clock, { identity });
  return {
    clock,
    cognito,
    store,
    config,
    daemon,
    configure: (more) => {
      configure(more);
      config.reload();
    },
    close: () => {
      daemon.shutdown();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The profile's line in status. */
export function statusOf(w: World) {
  const line = w.daemon.status().profiles.find((p) => p.name === 'dev');
  if (!line) throw new Error('no status for dev');
  return line;
}
