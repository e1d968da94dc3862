/**
 * The hooks most test files share, registered for the file (or the describe block) that calls them: one
 * cognito-local emulator started before all its tests and stopped (its directory removed) after them,
 * optionally a pool with one user, and CogEnvs cleaned up after each test (Cleanups: last made, first undone).
 * The emulator and the pool exist only once beforeAll has run: read them through the getters, in a test.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { Emulator, type EmulatorOptions, type Pool } from '../../src/emulator/harness.js';
import { CogEnv } from './cog.js';

export interface SuiteOptions {
  /** For Emulator.start (a fixed SMS code, say). */
  emulator?: EmulatorOptions;
  /** A pool (default options) with this user, made once the emulator is up. */
  user?: { name: string; password: string };
}

export interface Suite {
  readonly emu: Emulator;
  /** The pool made for `user` (an error when the suite was made without one). */
  readonly pool: Pool;
  /** A fresh CogEnv, cleaned up after the test. */
  newEnv(): CogEnv;
}

/**
 * Undo steps a test registers as it goes (a CogEnv, a tmux session, a bus, a proxy), run after the test, last
 * registered first: what was made on top of something is taken down before it.
 */
export class Cleanups {
  private readonly stack: (() => Promise<void> | void)[] = [];

  constructor() {
    afterEach(async () => {
      for (const c of this.stack.splice(0).reverse()) await c();
    });
  }

  push(cleanup: () => Promise<void> | void): void {
    this.stack.push(cleanup);
  }

  /** A fresh CogEnv, cleaned up with the rest. */
  newEnv(): CogEnv {
    const env = CogEnv.create();
    this.push(() => env.cleanup());
    return env;
  }
}

/** A CogEnv factory: every env it makes is cleaned up (`env.cleanup()`) after each test. */
export function trackedEnvs(): () => CogEnv {
  const cleanups = new Cleanups();
  return () => cleanups.newEnv();
}

export function emulatorSuite(options: SuiteOptions = {}): Suite {
  let emu: Emulator | undefined;
  let pool: Pool | undefined;
  beforeAll(async () => {
    emu = await Emulator.start(options.emulator);
    if (options.user) {
      pool = await emu.createPool();
      await emu.createUser(pool, options.user.name, options.user.password);
    }
  });
  afterAll(async () => {
    await emu?.stop({ removeDir: true });
  });
  const newEnv = trackedEnvs();
  return {
    get emu() {
      if (!emu) throw new Error('the emulator is not started yet (read it in a test or a hook)');
      return emu;
    },
    get pool() {
      if (!pool) throw new Error('no pool: pass `user`, and read it in a test or a hook');
      return pool;
    },
    newEnv,
  };
}
