/**
 * What happened to local state that the user must hear about (a damaged store moved aside, a lost key):
 * each profile's next get carries it, as a warning on success or appended to the error, until that profile
 * has had a successful get. `status` shows them all.
 */
import { CogTokenError } from '../shared/errors.js';

export class StoreNotices {
  private readonly notices: string[] = [];
  /** Profiles that have been told (in a successful answer) about every notice so far. */
  private readonly told = new Set<string>();

  add(notices: readonly string[]): void {
    if (notices.length === 0) return;
    this.notices.push(...notices);
    this.told.clear();
  }

  all(): string[] {
    return [...this.notices];
  }

  /** Runs one get for `profile`, adding the pending notices to its warnings or to its error. */
  async around<T extends { warnings: string[] }>(profile: string, run: () => Promise<T>): Promise<T> {
    try {
      const r = await run();
      if (this.notices.length > 0 && !this.told.has(profile)) {
        this.told.add(profile);
        return { ...r, warnings: [...r.warnings, ...this.notices] };
      }
      return r;
    } catch (error) {
      if (this.notices.length === 0 || this.told.has(profile) || !(error instanceof CogTokenError))
        throw error;
      // The notices end the line, in brackets.
      const more = ` (${this.notices.join('; ')})`;
      const d = error.detail();
      throw error.withDetail(
        d.remedy ? { ...d, remedy: d.remedy + more } : { ...d, problem: d.problem + more },
      );
    }
  }
}
