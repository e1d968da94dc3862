/**
 * The daemon's view of config.toml: re-read when the file changes (or on `cog-token reload`), so edits need
 * no restart. A broken edit keeps the last good config serving, with a warning; with no good config yet, the
 * error is the answer.
 *
 * The file tells the daemon which commands to run (client_secret_command runs in the daemon,
 * password_command and mfa_command in the client): a config that another user can change is refused
 * outright, last good version included, with the chmod that fixes it. A config that others can read names a
 * pool and a user, nothing that lets anyone sign in; one that holds a client secret is accepted with a
 * warning to chmod 600 it (issue #3: an app client's secret is shared by every install of the app, so
 * refusing would stop the user without protecting anything).
 */
import { type Stats, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Config, loadConfig } from '../shared/config.js';
import { messageOf, UnsafeStateError } from '../shared/errors.js';
import { mayAdviseChange } from '../system/private-directory.js';
import { log } from './log.js';

/** undefined for a path that cannot be looked at (missing, most often). */
function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Refuses a config file (or a directory above it that we own) that another user could change. */
function checkNotWritableByOthers(file: string): void {
  const me = process.getuid?.();
  const st = statOf(file);
  if (!st) return; // missing: an empty config
  if (me !== undefined && st.uid !== me && st.uid !== 0) {
    throw new UnsafeStateError({
      problem: `config file ${file} belongs to another user (uid ${st.uid}), who could make cog-token run any command`,
      remedy: 'take it over (cp it, then rm the original) or remove it',
    });
  }
  if ((st.mode & 0o022) !== 0) {
    throw new UnsafeStateError({
      problem: `config file ${file} can be changed by other users (mode ${(st.mode & 0o777).toString(8)}), who could make cog-token run any command`,
      remedy: `run chmod go-w ${file}`,
    });
  }
  // The directories above: whoever can write one can replace the file. Stop at the first one not ours
  // (/home, /tmp...): root's directories are as trusted as root.
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const d = statOf(dir);
    if (!d || (me !== undefined && d.uid !== me)) break;
    if ((d.mode & 0o022) !== 0 && (d.mode & 0o1000) === 0) {
      throw new UnsafeStateError({
        problem: `directory ${dir} (holding config file ${file}) can be changed by other users (mode ${(d.mode & 0o777).toString(8)})`,
        // Never advice that would change a directory others use (for root: /srv, /var/lib...).
        remedy: mayAdviseChange(dir, d, me)
          ? `run chmod go-w ${dir}`
          : 'keep the config file in a directory of your own (COG_TOKEN_CONFIG)',
      });
    }
    if (dirname(dir) === dir) break;
  }
}

export class ConfigSource {
  private good?: Config;
  private stamp = '';
  private error?: Error;
  private unsafe?: UnsafeStateError;
  /** The file was looked at in this turn of the event loop (see current()). */
  private lookedThisTurn = false;

  constructor(readonly file: string) {}

  /** The file's identity, content stamp and the modes that decide whether it is safe to use. */
  private currentStamp(): string {
    const st = statOf(this.file);
    const d = statOf(dirname(this.file));
    const file = st ? `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.mode}:${st.uid}` : 'missing';
    return `${file}|${d ? `${d.mode}:${d.uid}` : '-'}`;
  }

  current(): { config: Config; warning?: string } {
    if (this.lookedThisTurn) return this.answer();
    // Requests that arrive together (one turn of the event loop: up to hundreds under load) share one look
    // at the file. Each was sent before this turn began, so a change made before any was sent is still seen;
    // two stat() calls per request were the daemon's largest cost after the socket writes.
    this.lookedThisTurn = true;
    setImmediate(() => {
      this.lookedThisTurn = false;
    });
    const stamp = this.currentStamp();
    if (stamp !== this.stamp) {
      this.stamp = stamp;
      this.unsafe = undefined;
      try {
        checkNotWritableByOthers(this.file);
        const config = loadConfig(this.file);
        this.good = config;
        this.error = undefined;
        log.info(`config loaded from ${this.file} (${this.good.profiles.size} profiles)`);
      } catch (error) {
        if (error instanceof UnsafeStateError) {
          this.unsafe = error;
          log.error(`config refused: ${error.message}`);
        } else {
          this.error = error instanceof Error ? error : new Error(messageOf(error));
          log.warn(`config: ${messageOf(error)}`);
        }
      }
    }
    return this.answer();
  }

  private answer(): { config: Config; warning?: string } {
    if (this.unsafe) throw this.unsafe;
    if (this.error) {
      if (!this.good) throw this.error;
      return { config: this.good, warning: `${this.error.message} (still using the last good version)` };
    }
    return { config: this.good as Config };
  }

  /** Reads the file again now, whatever its stamp says; throws what a get would get. */
  reload() {
    this.stamp = '';
    this.lookedThisTurn = false;
    const { config, warning } = this.current();
    const warnings = [...config.warnings, ...(warning ? [warning] : [])];
    return {
      profiles: [...config.profiles.keys()].sort(),
      broken: [...config.broken.entries()].map(([name, e]) => ({ name, error: e.message })),
      ...(warnings.length ? { warnings } : {}),
    };
  }
}
