/** `cog-token completion`: a shell completion script; after a command that takes a profile, its names. */
import { clientConfig } from '../client-config.js';

const profileCommands = new Set(['get', 'login', 'logout', 'exec', 'configure', 'devices']);

/** Profile names for shell completion; nothing when the config cannot be read. */
function profileNames(): string[] {
  try {
    const config = clientConfig();
    return [...config.profiles.keys(), ...config.broken.keys()];
  } catch {
    return [];
  }
}

export const completionCommand = 'completion';
export const completionDescription =
  'print a shell completion script (bash, zsh): source <(cog-token completion)';

/** yargs' completion function. */
export function complete(
  _current: string,
  args: { _: unknown[] },
  defaultCompletion: (onCompleted?: (err: Error | null, completions: string[] | undefined) => void) => void,
  done: (completions: string[]) => void,
): void {
  // The shell scripts pass the command line from its first word, the program's name.
  const words = (args._ as unknown[]).map(String);
  if (/(^|\/)cog-token$|main\.js$/.test(words[0] ?? '')) words.shift();
  if (words.length === 2 && profileCommands.has(words[0] as string)) {
    done(profileNames());
    return;
  }
  defaultCompletion();
}
