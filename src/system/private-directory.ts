import { lstatSync, mkdirSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve, sep } from 'node:path';
import { UnsafeStateError } from '../shared/errors.js';

/** Where a refusal sends the user when changing the directory is not theirs to do. */
const ownDirectoryAdvice =
  "use a directory of your own instead (COG_TOKEN_SOCKET, COG_TOKEN_KEY_FILE and XDG_* move cog-token's files)";

/**
 * Whether advice may tell the user to chmod (or move) `dir`: only a directory of their own that nobody
 * else uses. Never another user's, a sticky one (/tmp, /var/tmp) or `/`; for root, who owns every system
 * directory (/home, /var/lib...), only one whose path names cog-token or that sits in a directory only
 * root can enter (no one else can be using it). Changing the others would break them for everyone else:
 * the advice is then a directory of one's own.
 */
export function mayAdviseChange(dir: string, st: Stats, uid = process.getuid?.()): boolean {
  if (uid === undefined || st.uid !== uid || (st.mode & 0o1000) !== 0) return false;
  const path = resolve(dir);
  if (path === sep) return false;
  if (uid !== 0 || path.split(sep).includes('cog-token')) return true;
  const parent = lstatSync(dirname(path), { throwIfNoEntry: false });
  return parent?.isDirectory() === true && parent.uid === 0 && (parent.mode & 0o077) === 0;
}

/**
 * Creates `dir` with mode 0700 (not chmod afterwards) or checks that an existing one is a directory owned by
 * us that no one else can enter. Refuses with the chmod that fixes it where that is safe (mayAdviseChange,
 * and never the home directory itself), else with `elsewhere`: how to use a directory of one's own.
 */
export function ensurePrivateDir(dir: string, elsewhere = ownDirectoryAdvice): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const ours = mayAdviseChange(dir, st) && resolve(dir) !== resolve(homedir());
  if (!st.isDirectory()) {
    throw new UnsafeStateError({
      problem: `${dir} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}`,
      remedy: ours ? `move it aside, or ${elsewhere}` : elsewhere,
    });
  }
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new UnsafeStateError({
      problem: `${dir} belongs to another user (uid ${st.uid})`,
      remedy: elsewhere,
    });
  }
  if ((st.mode & 0o077) !== 0) {
    throw new UnsafeStateError({
      problem: `${dir} can be read by other users (mode ${(st.mode & 0o777).toString(8)})`,
      remedy: ours ? `run chmod 700 ${dir}` : elsewhere,
    });
  }
}
