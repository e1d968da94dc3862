import { lstatSync, mkdirSync } from 'node:fs';
import { UnsafeStateError } from '../shared/errors.js';

/**
 * Creates `dir` with mode 0700 (not chmod afterwards) or checks that an existing one is a directory owned by
 * us that no one else can enter. Refuses with the chmod that fixes it.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) {
    throw new UnsafeStateError({ problem: `${dir} is not a directory`, remedy: 'move it aside' });
  }
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new UnsafeStateError({
      problem: `${dir} belongs to another user (uid ${st.uid})`,
      remedy: 'remove it or choose another path',
    });
  }
  if ((st.mode & 0o077) !== 0) {
    throw new UnsafeStateError({
      problem: `${dir} can be read by other users (mode ${(st.mode & 0o777).toString(8)})`,
      remedy: `run chmod 700 ${dir}`,
    });
  }
}
