import { lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import envPaths from 'env-paths';
import { ConfigError, UnsafeStateError } from './errors.js';
import { maxSocketPathBytes, socketFileFromVariables } from './socket-path.js';

/** Where cog-token keeps its files. Every path can be moved with an environment variable. */
export interface Paths {
  configFile: string;
  /** Directory of the SQLite store. */
  dataDir: string;
  databaseFile: string;
  /** Directory of the key file and the daemon's log: kept apart from the database. */
  stateDir: string;
  keyFile: string;
  logFile: string;
  /** 0700 directory that holds the socket and the daemon's lock. */
  runtimeDir: string;
  socketFile: string;
  lockFile: string;
}

export { maxSocketPathBytes };

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): Paths {
  const base = envPaths('cog-token', { suffix: '' });
  const configFile = env.COG_TOKEN_CONFIG || join(base.config, 'config.toml');
  const dataDir = base.data;
  const stateDir = base.log;
  // The rule lives in socket-path.ts, which the `get` hot path uses without env-paths.
  const socketFile = socketFileFromVariables(env) ?? join(base.cache, 'run', 'sock');
  const runtimeDir = join(socketFile, '..');
  if (Buffer.byteLength(socketFile) > maxSocketPathBytes) {
    throw new ConfigError(
      `socket path ${socketFile} is longer than ${maxSocketPathBytes} bytes, which Unix sockets cannot hold: set COG_TOKEN_SOCKET to a shorter path`,
    );
  }
  return {
    configFile,
    dataDir,
    databaseFile: join(dataDir, 'tokens.db'),
    stateDir,
    keyFile: env.COG_TOKEN_KEY_FILE || join(stateDir, 'store.key'),
    logFile: join(stateDir, 'daemon.log'),
    runtimeDir,
    socketFile,
    lockFile: join(runtimeDir, 'daemon.lock'),
  };
}

/**
 * Creates `dir` with mode 0700 (not chmod afterwards) or checks that an existing one is a directory owned by
 * us that no one else can enter. Refuses with the chmod that fixes it.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) {
    throw new UnsafeStateError(`${dir} is not a directory: move it aside`);
  }
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new UnsafeStateError(
      `${dir} belongs to another user (uid ${st.uid}): remove it or choose another path`,
    );
  }
  if ((st.mode & 0o077) !== 0) {
    throw new UnsafeStateError(
      `${dir} can be read by other users (mode ${(st.mode & 0o777).toString(8)}): run chmod 700 ${dir}`,
    );
  }
}
