/**
 * The socket's path, checked from `/` down before the daemon binds: whoever can write a directory on the
 * way can rename it and put one of their own in its place, with a socket of their own in it, after the
 * daemon's one check of its last directory. So every directory above the socket must belong to root or to
 * this user and be writable by no one else; the one exception is a root-owned sticky directory such as
 * /tmp (others cannot rename what is ours in it), whose next component must then be this user's own 0700
 * directory. A symlink on the way must belong to root or to this user, and where it points is checked the
 * same way. Components that do not exist yet are created by the daemon, 0700.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { UnsafeStateError } from '../shared/errors.js';
import { mayAdviseChange } from '../system/private-directory.js';

const ownDirectoryAdvice = 'use a directory of your own, e.g. $XDG_RUNTIME_DIR/cog-token';

function refuse(socketFile: string, problem: string, advice = ownDirectoryAdvice): never {
  throw new UnsafeStateError({
    problem: `refusing the socket path ${socketFile}: ${problem}, so another user could put a socket of their own there`,
    remedy: advice,
  });
}

/** `/`, `/a`, `/a/b`, ... for an absolute path. */
function prefixes(path: string): string[] {
  const parts = resolve(path).split(sep).filter(Boolean);
  return [sep, ...parts.map((_, i) => join(sep, ...parts.slice(0, i + 1)))];
}

/**
 * Throws an UnsafeStateError (one line: the path, what is wrong, what to do) when the directory that holds
 * `socketFile`, or any directory above it, could be replaced by another user.
 */
export function checkSocketDirectory(socketFile: string, uid = process.getuid?.()): void {
  if (uid === undefined) return; // Windows: no uids to compare.
  checkChain(socketFile, dirname(resolve(socketFile)), uid, 0);
}

function checkChain(socketFile: string, dir: string, uid: number, depth: number): void {
  if (depth > 8) refuse(socketFile, `${dir} goes through too many symlinks`);
  let mustBeOwnPrivate: string | undefined;
  for (const path of prefixes(dir)) {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) return; // From here down the daemon creates the directories itself, 0700.
    const owner = st.uid === uid ? 'you' : st.uid === 0 ? 'root' : `uid ${st.uid}`;
    if (st.uid !== uid && st.uid !== 0) {
      refuse(
        socketFile,
        `${path} ${st.isSymbolicLink() ? 'is a symlink that belongs' : 'belongs'} to ${owner}, who can rename or replace it`,
      );
    }
    if (mustBeOwnPrivate !== undefined) {
      if (st.uid !== uid || !st.isDirectory() || (st.mode & 0o077) !== 0) {
        // The user's own directory, which nobody else uses: the exact chmod; never one of the shared dir's.
        const ours = st.isDirectory() && mayAdviseChange(path, st, uid);
        refuse(
          socketFile,
          `${path} is in the shared directory ${mustBeOwnPrivate} and is not a 0700 directory of your own (${st.isDirectory() ? `mode ${(st.mode & 0o777).toString(8)}, owner ${owner}` : 'not a directory'})`,
          ours ? `run chmod 700 ${path}, or ${ownDirectoryAdvice}` : ownDirectoryAdvice,
        );
      }
      mustBeOwnPrivate = undefined;
    }
    if (st.isSymbolicLink()) {
      // Owned by root or us: follow it, and check where it leads the same way.
      let target: string;
      try {
        target = realpathSync(path);
      } catch {
        return; // Dangling: mkdir will fail and say so.
      }
      checkChain(socketFile, target, uid, depth + 1);
      continue;
    }
    if (!st.isDirectory()) return; // mkdir or bind will fail and say so.
    if ((st.mode & 0o022) === 0) continue;
    const mode = (st.mode & 0o7777).toString(8);
    const sticky = (st.mode & 0o1000) !== 0;
    if (sticky && st.uid === 0) {
      if (path === resolve(dir)) {
        refuse(socketFile, `the socket would be directly in the shared directory ${path} (mode ${mode})`);
      }
      mustBeOwnPrivate = path;
      continue;
    }
    refuse(
      socketFile,
      `${path} can be written by other users (mode ${mode}, owner ${owner})`,
      st.uid === uid && uid !== 0 ? `run chmod go-w ${path}, or ${ownDirectoryAdvice}` : ownDirectoryAdvice,
    );
  }
}
