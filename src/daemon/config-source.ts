/**
 * The daemon's view of config.toml: re-read when the file changes, so edits need no restart. A broken edit
 * keeps the last good config serving, with a warning; with no good config yet, the error is the answer.
 */
import { statSync } from 'node:fs';
import { type Config, loadConfig } from '../shared/config.js';
import { log } from './log.js';

export class ConfigSource {
  private good?: Config;
  private stamp = '';
  private error?: Error;

  constructor(readonly file: string) {}

  current(): { config: Config; warning?: string } {
    let stamp: string;
    try {
      const st = statSync(this.file);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      stamp = 'missing';
    }
    if (stamp !== this.stamp) {
      this.stamp = stamp;
      try {
        this.good = loadConfig(this.file);
        this.error = undefined;
        log.info(`config loaded from ${this.file} (${this.good.profiles.size} profiles)`);
      } catch (error) {
        this.error = error as Error;
        log.warn(`config: ${(error as Error).message}`);
      }
    }
    if (this.error) {
      if (!this.good) throw this.error;
      return { config: this.good, warning: `${this.error.message} (still using the last good version)` };
    }
    return { config: this.good as Config };
  }
}
