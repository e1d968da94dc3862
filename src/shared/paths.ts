import { join } from 'node:path';
import envPaths from 'env-paths';
import { ConfigError } from './errors.js';
import { maxSocketPathBytes, socketFileFromVariables } from './socket-path.js';

/**
 * Where cog-token keeps its files, worked out from the environment (no file is touched: the directories are
 * made by their users, through system/private-directory.ts). Every path can be moved with a variable.
 */
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
    throw new ConfigError({
      problem: `socket path ${socketFile} is longer than ${maxSocketPathBytes} bytes, which Unix sockets cannot hold`,
      remedy: 'set COG_TOKEN_SOCKET to a shorter path',
    });
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
