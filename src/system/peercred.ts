/**
 * The one loader of the native peer-uid module, build/Release/peercred.node (src/native/peercred.c, built
 * by `npm install` through scripts/build-native.mjs; optional): the daemon checks its peers with it
 * (daemon/peer-credentials.ts), the client its daemon (client/get/daemon-trust.ts). Loaded with process.dlopen,
 * a documented API that costs the `get` hot path about 0.4 ms and loads no module loader; once per process.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { messageOf } from '../shared/errors.js';

export interface PeerCred {
  /** The uid of the process at the other end of a connected Unix socket; throws when the kernel refuses. */
  peerUid(fd: number): number;
  /**
   * A connected Unix stream socket (close-on-exec, SO_SNDTIMEO/SO_RCVTIMEO = timeoutMs); throws with `code`.
   * Missing from builds older than the client's use of it.
   */
  connectUnix?(path: string, timeoutMs: number): number;
}

export type PeerCredLoad = { module: PeerCred } | { missing: string };

let loaded: PeerCredLoad | undefined;

/** The module, or why there is none (not built: no compiler at install time, Windows; or it failed to load). */
export function loadPeerCred(): PeerCredLoad {
  if (loaded) return loaded;
  // build/Release from the package root: two levels up from dist/client, dist/daemon (the bundles, where
  // __dirname is defined) and src/system alike.
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  const file = join(here, '..', '..', 'build', 'Release', 'peercred.node');
  try {
    const m = { exports: {} as Partial<PeerCred> };
    process.dlopen(m, file);
    loaded =
      typeof m.exports.peerUid === 'function'
        ? { module: m.exports as PeerCred }
        : { missing: `${file} has no peerUid function` };
  } catch (error) {
    loaded = {
      missing: existsSync(file)
        ? `the native module ${file} does not load (${messageOf(error).split('\n')[0]})`
        : `the native module ${file} is not built (no compiler at install time?)`,
    };
  }
  return loaded;
}
