/**
 * Whether a config file's commands may run: owned by this user (or root) and not writable by group or
 * others, as the daemon requires too (it refuses such a file with the chmod that fixes it).
 */
import { statSync } from 'node:fs';

export function trustworthyConfig(configFile: string): boolean {
  try {
    const st = statSync(configFile);
    const uid = process.getuid?.();
    return (uid === undefined || st.uid === uid || st.uid === 0) && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}
