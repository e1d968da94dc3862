/**
 * One network call per need (issue #5, target 4): many callers at once on one profile share one refresh or
 * one sign-in, counted at a proxy in front of the emulator. Each scenario has its own world (daemon, config)
 * and proxy. Used by `npm run bench` and by test/shared-work.test.ts (so CI runs it as a test).
 *
 * The callers are raw socket connections from this process, each sending one `get` (and answering a
 * question with the password): 200 processes would measure process start-up, not the daemon.
 */
import type { Emulator, Pool } from '../emulator/harness.js';
import type { DaemonMessage } from '../shared/protocol.js';
import { CountingProxy } from './counting-proxy.js';
import { DaemonSocket, type GetOutcome, requestOnce } from './daemon-socket.js';
import { waitUntil } from './poll.js';
import { World } from './world.js';

const password = 'Shared-Work-Pa55!';

export interface SharedWorkOutcome {
  scenario: string;
  callers: number;
  /** Callers that got a token. */
  succeeded: number;
  /** Different tokens handed out (1: everyone got the same). */
  distinctTokens: number;
  /** The token handed out is not the one held before the burst. */
  fresh: boolean;
  /** Questions asked, over all callers. */
  asks: number;
  /** What reached Cognito during the burst (CountingProxy keys). */
  calls: Record<string, number>;
  /** The first few error replies, if any. */
  errors: string[];
}

interface Setup {
  world: World;
  proxy: CountingProxy;
  pool: Pool;
}

/** Runs a scenario in a world of its own, profile `dev` behind a counting proxy, and tears it down after. */
async function inWorld<T>(emu: Emulator, pool: Pool, scenario: (s: Setup) => Promise<T>): Promise<T> {
  const proxy = await CountingProxy.start(() => emu.endpoint);
  const world = World.create();
  try {
    await emu.createUser(pool, 'dev', password);
    world.writeConfig(World.profile('dev', proxy.endpoint, pool, 'dev'));
    await world.startDaemon();
    return await scenario({ world, proxy, pool });
  } finally {
    await world.cleanup();
    await proxy.stop();
  }
}

function tokenOf(reply: DaemonMessage): string | undefined {
  return reply.type === 'result' && 'token' in reply ? reply.token : undefined;
}

/** One get through its own connection (signing in with the password if need be); returns the token. */
async function getWithPassword(world: World, profile: string): Promise<string> {
  const s = await DaemonSocket.open(world.socketFile);
  try {
    const { reply } = await s.get(profile, { answer: password });
    const token = tokenOf(reply);
    if (!token) throw new Error(`sign-in of ${profile} failed: ${JSON.stringify(reply)}`);
    return token;
  } finally {
    s.close();
  }
}

/** `callers` connections, opened and then all sent a get at once; `release` runs after every get is sent. */
async function burst(
  s: Setup,
  scenario: string,
  profile: string,
  callers: number,
  before: string | undefined,
  release: () => void = () => {},
): Promise<SharedWorkOutcome> {
  const sockets = await Promise.all(
    Array.from({ length: callers }, () => DaemonSocket.open(s.world.socketFile)),
  );
  try {
    s.proxy.reset();
    const pending: Promise<GetOutcome>[] = sockets.map((socket) => socket.get(profile, { answer: password }));
    release();
    const outcomes = await Promise.all(pending);
    const calls = s.proxy.snapshot();
    const tokens = outcomes.map((o) => tokenOf(o.reply)).filter((t): t is string => t !== undefined);
    const distinct = new Set(tokens);
    return {
      scenario,
      callers,
      succeeded: tokens.length,
      distinctTokens: distinct.size,
      fresh: tokens.length > 0 && !distinct.has(before ?? ''),
      asks: outcomes.reduce((n, o) => n + o.asks, 0),
      calls,
      errors: outcomes
        .flatMap((o) => (o.reply.type === 'error' ? [`${o.reply.code}: ${o.reply.message}`] : []))
        .slice(0, 3),
    };
  } finally {
    for (const socket of sockets) socket.close();
  }
}

function claims(token: string): { exp: number } {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number };
}

/**
 * Tokens that expired for real: the daemon is frozen (SIGSTOP) across the expiry, the callers connect and
 * send their gets meanwhile, then it is thawed (SIGCONT) to find them all waiting, and its refresh timer
 * overdue. The profile's first refresh: the daemon probes GetTokensFromRefreshToken (the emulator lacks it)
 * once, then uses REFRESH_TOKEN_AUTH.
 */
export async function refreshAfterExpiry(emu: Emulator, callers = 200): Promise<SharedWorkOutcome> {
  const pool = await emu.createPool({ accessTokenSeconds: 6, idTokenSeconds: 6 });
  return inWorld(emu, pool, async (s) => {
    const pid = s.world.daemonPid() as number;
    const before = await getWithPassword(s.world, 'dev');
    // The refresh timer is due 1.5 s before expiry (a quarter of the lifetime): freeze well before that.
    process.kill(pid, 'SIGSTOP');
    try {
      await waitUntil('the tokens to expire', () => Date.now() / 1000 > claims(before).exp + 0.5, 20_000);
    } catch (error) {
      process.kill(pid, 'SIGCONT');
      throw error;
    }
    return burst(s, 'refresh after expiry', 'dev', callers, before, () => process.kill(pid, 'SIGCONT'));
  });
}

/**
 * Tokens dropped by `invalidate` (what git's `erase` does) on a profile that has refreshed before, so the
 * daemon knows the emulator's refresh API: the callers' gets are what starts the refresh.
 */
export async function refreshAfterInvalidate(emu: Emulator, callers = 200): Promise<SharedWorkOutcome> {
  return inWorld(emu, await emu.createPool(), async (s) => {
    await getWithPassword(s.world, 'dev');
    const invalidate = () => requestOnce(s.world.socketFile, { v: 1, op: 'invalidate', profile: 'dev' });
    // Once, so that the probe of GetTokensFromRefreshToken is behind us.
    await invalidate();
    const before = await getWithPassword(s.world, 'dev');
    await invalidate();
    return burst(s, 'refresh after invalidate', 'dev', callers, before);
  });
}

/** A profile never signed in: every caller can answer the password question; one is asked. */
export async function concurrentSignIn(emu: Emulator, callers = 200): Promise<SharedWorkOutcome> {
  return inWorld(emu, await emu.createPool(), (s) => burst(s, 'sign-in', 'dev', callers, undefined));
}
