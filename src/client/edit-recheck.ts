/**
 * The re-check after configure edits config.toml as text: the new text is parsed again and must hold the
 * profile as meant and leave everything else exactly as before, else nothing is written.
 */
import { type Config, type ProfileConfig, parseConfig } from '../shared/config.js';
import { ConfigError } from '../shared/errors.js';

function sameProfile(a: ProfileConfig | undefined, b: ProfileConfig | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The profile as the edited `text` gives it; throws when the edit broke it or changed anything else. */
export function recheckEdit(
  before: Config,
  text: string,
  name: string,
  expected: Partial<ProfileConfig>,
): ProfileConfig {
  const { file } = before;
  const after = parseConfig(text, file);
  const profile = after.profiles.get(name);
  if (!profile) {
    const broken = after.broken.get(name);
    throw new ConfigError(
      broken !== undefined
        ? { ...broken.detail(), remedy: `${broken.remedy ?? 'fix the file'} (nothing was written)` }
        : {
            where: file,
            profile: name,
            problem: `profile "${name}" is missing after the edit (nothing was written)`,
            remedy: 'edit the file by hand',
          },
    );
  }
  const others = new Set([...before.profiles.keys(), ...after.profiles.keys()]);
  others.delete(name);
  const intact =
    Object.entries(expected).every(([k, v]) => profile[k as keyof ProfileConfig] === v) &&
    [...others].every((o) => sameProfile(before.profiles.get(o), after.profiles.get(o))) &&
    JSON.stringify([...before.broken.keys()].filter((b) => b !== name)) ===
      JSON.stringify([...after.broken.keys()].filter((b) => b !== name)) &&
    before.pinentryProgram === after.pinentryProgram;
  if (!intact) {
    throw new ConfigError({
      where: file,
      profile: name,
      problem: `editing profile "${name}" would have changed something else in the file (nothing was written)`,
      remedy: 'edit it by hand',
    });
  }
  return profile;
}
