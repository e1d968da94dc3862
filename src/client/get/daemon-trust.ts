/**
 * The client talks only to a daemon of its own user (both connect paths: quick-socket.ts for the `get` hot
 * path, daemon-connection.ts for the rest). The daemon asks for passwords and MFA codes and hands out
 * tokens, so whoever answers on the socket path must be us:
 *
 * - before connecting (`checkSocketPath`): the socket's directory is a real directory (not a symbolic
 *   link), owned by this user, with no access for group or others; the socket, if there, is owned by this
 *   user. A few lstat() calls: microseconds.
 * - after connecting, where the native module is built (`build/Release/peercred.node`, the same one the
 *   daemon uses for its peers): the uid of the process at the other end, as the kernel recorded it
 *   (SO_PEERCRED / getpeereid). This also closes the window between the lstat() and the connect (a
 *   directory renamed and replaced in between). Node has no public way to hand a net.Socket's descriptor
 *   to native code, so the module makes the connection itself (`connectUnix`) and the client speaks over
 *   the descriptor (quick-socket.ts) or wraps it in `new net.Socket({ fd })` (daemon-connection.ts).
 *
 * Anything else is a CogTokenError `daemon-unreachable` (exit 6) naming the path and its owner, thrown
 * before a byte is sent.
 */
import { closeSync, lstatSync, readFileSync, type Stats, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { CogTokenError, messageOf } from '../../shared/errors.js';
import { loadPeerCred, type PeerCred } from '../../system/peercred.js';

export type NativeSocket = Required<PeerCred>;

/**
 * The native module (system/peercred.ts), or undefined where it was not built (no compiler at install time,
 * Windows) or is an older build without `connectUnix`: then the path checks alone, as the daemon then
 * relies on its socket's permissions.
 */
export function nativeSocket(): NativeSocket | undefined {
  const load = loadPeerCred();
  return 'module' in load && typeof load.module.connectUnix === 'function'
    ? (load.module as NativeSocket)
    : undefined;
}

/** Whose uid this is, for messages: `nobody (uid 65534)`, or `uid 1234` when /etc/passwd does not say. */
function ownerName(uid: number): string {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && id === String(uid)) return `${name} (uid ${uid})`;
    }
  } catch {
    // No passwd file to read: the number alone.
  }
  return `uid ${uid}`;
}

function me(): string {
  return typeof process.getuid === 'function'
    ? ownerName(process.getuid()).replace(' (', ', ').replace(/\)$/, '')
    : 'you';
}

function refuse(socketFile: string, why: string): CogTokenError {
  return new CogTokenError('daemon-unreachable', {
    problem: `refusing the daemon socket ${socketFile}: ${why}; nothing was sent`,
    remedy: 'check COG_TOKEN_SOCKET and XDG_RUNTIME_DIR (after su, use su -)',
  });
}

function lstatOrUndefined(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

/**
 * Checks the socket's directory and the socket before anything is sent. false: nothing there (no daemon
 * runs, or not yet); true: there is a file of ours at the path (whether a daemon answers on it, the
 * connection tells). Throws a CogTokenError (exit 6) for a path another user controls.
 */
export function checkSocketPath(socketFile: string): boolean {
  if (typeof process.getuid !== 'function') return true; // Windows: named pipes, no uids.
  const uid = process.getuid();
  const dir = dirname(socketFile);
  let st: Stats | undefined;
  try {
    st = lstatOrUndefined(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw error;
  }
  if (!st) return false;
  if (st.isSymbolicLink()) {
    const target = statSync(dir, { throwIfNoEntry: false });
    throw refuse(
      socketFile,
      `its directory ${dir} is a symbolic link${target ? ` (to a directory owned by ${ownerName(target.uid)})` : ''}`,
    );
  }
  if (!st.isDirectory()) throw refuse(socketFile, `${dir} is not a directory`);
  if (st.uid !== uid) {
    throw refuse(socketFile, `its directory ${dir} is owned by ${ownerName(st.uid)}, not by you (${me()})`);
  }
  if ((st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o7777).toString(8);
    // A shared directory (sticky, like /tmp; or, for root, any directory but cog-token's own, such as
    // /var/run) is not for the user to chmod: the advice is another directory, never a change that would
    // break it for everyone else.
    const ours = /^(cog-token|run)$/.test(basename(dir));
    const shared = (st.mode & 0o1000) !== 0 || (uid === 0 && !ours);
    throw refuse(
      socketFile,
      shared
        ? `its directory ${dir} is open to other users (mode ${mode}): use a directory of your own, e.g. $XDG_RUNTIME_DIR/cog-token`
        : `its directory ${dir} is open to other users (mode ${mode}: chmod 700 it, it is yours)`,
    );
  }
  const sock = lstatOrUndefined(socketFile);
  if (!sock) return false;
  if (sock.uid !== uid)
    throw refuse(socketFile, `it is owned by ${ownerName(sock.uid)}, not by you (${me()})`);
  return true;
}

/**
 * After connecting through the native module: the process at the other end must run as this user.
 * Closes `fd` and throws (exit 6) otherwise.
 */
export function checkPeer(native: NativeSocket, fd: number, socketFile: string): void {
  if (typeof process.getuid !== 'function') return;
  let peer: number;
  try {
    peer = native.peerUid(fd);
  } catch (error) {
    closeSync(fd);
    throw new CogTokenError('daemon-unreachable', {
      problem: `cannot tell who listens on ${socketFile} (${messageOf(error)}); nothing was sent`,
      remedy: 'check COG_TOKEN_SOCKET and XDG_RUNTIME_DIR, or stop whatever listens there',
    });
  }
  if (peer !== process.getuid()) {
    closeSync(fd);
    throw refuse(socketFile, `the process listening on it runs as ${ownerName(peer)}, not as you (${me()})`);
  }
}
