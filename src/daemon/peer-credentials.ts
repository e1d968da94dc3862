/**
 * Who is at the other end of a connection: the peer's uid as the kernel recorded it at connect time
 * (SO_PEERCRED on Linux, getpeereid() on macOS and the BSDs), through the small native module
 * src/native/peercred.c (loaded by system/peercred.ts). Node itself has no API for it.
 *
 * The socket's 0700 directory and 0600 mode already keep other users out; this check is the second wall,
 * for a socket the daemon did not create (systemd socket activation) or permissions changed behind its back.
 * When the module is missing (no compiler at install time, Windows), the daemon relies on the permissions
 * alone; `cog-token status` says which (selfTest: having the module is not proof that the check works, a
 * Node whose sockets no longer expose their descriptor would make every peer "unknown").
 */
import { connect, type Socket } from 'node:net';
import { messageOf } from '../shared/errors.js';
import { loadPeerCred } from '../system/peercred.js';

const load = loadPeerCred();
const native = 'module' in load ? load.module : undefined;

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

/** What `status` reports: the method when it was seen to work, else why the check is not active. */
export type PeerCheckState =
  | { active: true; method: 'SO_PEERCRED' | 'getpeereid' }
  | { active: false; why: string };

/**
 * Connects to the daemon's own socket and asks the kernel who is at the other end: the check is active only
 * when that is our own uid. Bounded in time (the server is ours and listening, so it answers at once).
 */
export function selfTest(socketFile: string, ownUid: number | undefined): Promise<PeerCheckState> {
  if (!native)
    return Promise.resolve({ active: false, why: 'missing' in load ? load.missing : 'no native module' });
  const method = process.platform === 'linux' ? 'SO_PEERCRED' : 'getpeereid';
  if (ownUid === undefined) return Promise.resolve({ active: false, why: 'this platform has no uids' });
  return new Promise((resolve) => {
    const socket = connect(socketFile);
    const done = (state: PeerCheckState) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(state);
    };
    const timer = setTimeout(
      () => done({ active: false, why: `the self-test could not connect to ${socketFile} in time` }),
      5_000,
    );
    socket.once('error', (error) =>
      done({ active: false, why: `the self-test could not connect (${error.message})` }),
    );
    socket.once('connect', () => {
      try {
        const uid = peerUid(socket);
        if (uid === ownUid) done({ active: true, method });
        else if (uid === undefined)
          done({ active: false, why: "a socket's descriptor could not be read in this Node.js" });
        else done({ active: false, why: `the self-test read uid ${uid}, not ${ownUid}` });
      } catch (error) {
        done({ active: false, why: `${method} failed on the self-test (${messageOf(error)})` });
      }
    });
  });
}
