/**
 * Who is at the other end of a connection: the peer's uid as the kernel recorded it at connect time
 * (SO_PEERCRED on Linux, getpeereid() on macOS and the BSDs), through the small native module
 * src/native/peercred.c that `npm install` builds (scripts/build-native.mjs). Node itself has no API for it.
 *
 * The socket's 0700 directory and 0600 mode already keep other users out; this check is the second wall,
 * for a socket the daemon did not create (systemd socket activation) or permissions changed behind its back.
 * When the module is missing (no compiler at install time, Windows), `peerCheck` is undefined and the daemon
 * relies on the permissions alone; `cog-token status` says which.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Native {
  peerUid(fd: number): number;
}

/** build/Release from the package root: two levels up from src/daemon and from dist/daemon alike. */
function loadNative(): Native | undefined {
  try {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const native = createRequire(import.meta.url)(join(root, 'build', 'Release', 'peercred.node')) as Native;
    return typeof native.peerUid === 'function' ? native : undefined;
  } catch {
    return undefined;
  }
}

const native = loadNative();

/** How this daemon checks its peers, or undefined when it cannot. */
export const peerCheck: 'SO_PEERCRED' | 'getpeereid' | undefined = native
  ? process.platform === 'linux'
    ? 'SO_PEERCRED'
    : 'getpeereid'
  : undefined;

/**
 * The uid of the process that opened this connection, or undefined when it cannot be told (no native
 * module, or no descriptor to ask). Throws only if the kernel refuses, which the caller treats as a refusal.
 */
export function peerUid(socket: Socket): number | undefined {
  if (!native) return undefined;
  // The descriptor of a connected Unix socket (net.Socket keeps its libuv handle in _handle).
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return undefined;
  return native.peerUid(fd);
}
