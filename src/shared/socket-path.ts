/**
 * Where the daemon's socket is, worked out from the environment alone. paths.ts resolves every path through
 * env-paths; the `get` hot path needs only this one, and env-paths loads `node:os` (about 1 ms of a 75 ms
 * command). This module replays env-paths' rule for the cache directory where it is a function of the
 * environment (HOME set, not Windows) and says `undefined` elsewhere, where the caller falls back to
 * resolvePaths(). paths.ts uses it too, and test/quick-socket.test.ts checks both agree.
 */
import { join } from 'node:path';

/** Node silently truncates longer socket paths (sun_path is 108 bytes on Linux, 104 on macOS). */
export const maxSocketPathBytes = process.platform === 'darwin' ? 103 : 107;

/** COG_TOKEN_SOCKET, else $XDG_RUNTIME_DIR/cog-token/sock, else (undefined here) env-paths' cache dir. */
export function socketFileFromVariables(env: NodeJS.ProcessEnv): string | undefined {
  if (env.COG_TOKEN_SOCKET) return env.COG_TOKEN_SOCKET;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'cog-token', 'sock');
  return undefined;
}

/** The socket without env-paths, or undefined when only env-paths can tell (no HOME, or Windows). */
export function quickSocketFile(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  const fromVariables = socketFileFromVariables(env);
  if (fromVariables !== undefined) return fromVariables;
  const home = env.HOME;
  if (!home || platform === 'win32') return undefined;
  const cache =
    platform === 'darwin'
      ? join(home, 'Library', 'Caches', 'cog-token')
      : join(env.XDG_CACHE_HOME || join(home, '.cache'), 'cog-token');
  return join(cache, 'run', 'sock');
}
