/**
 * `cog-token completion`: a shell completion script. Profile names are offered where a profile is expected
 * (the first word after a command that takes one), the choices of an option after it (yargs' own
 * completion), commands and options elsewhere.
 */
import { clientConfig } from '../client-config.js';

const profileCommands = new Set(['get', 'login', 'logout', 'exec', 'configure', 'devices']);

/** Options that take no value: a word after one of them is not its value. */
const flags = new Set([
  '--input',
  '--no-input',
  '--json',
  '--local',
  '--yes',
  '--delete',
  '--help',
  '-h',
  '--version',
]);

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
export const completionHelp = `cog-token completion

Print a completion script for the shell named by $SHELL (bash or zsh) on stdout. Load it with
  source <(cog-token completion)
or add that line to ~/.bashrc or ~/.zshrc. It completes commands, options, the choices of an option
(--format, --token, --auth-flow...) and, where a profile is expected, the profile names of your config.
`;

/** Whether `words` (after the program's name; the last one being typed) stand where a profile goes. */
function profileExpected(words: readonly string[]): boolean {
  const command = words[0];
  if (command === undefined || !profileCommands.has(command)) return false;
  const typed = words.slice(1, -1);
  if (typed.includes('--')) return false;
  const current = words[words.length - 1] ?? '';
  if (current.startsWith('-')) return false;
  // The word after an option that takes a value is that value.
  const previous = typed[typed.length - 1];
  if (previous?.startsWith('-') && !previous.includes('=') && !flags.has(previous)) return false;
  // No profile yet among the words before this one (each option's value skipped).
  for (let i = 0; i < typed.length; i++) {
    const w = typed[i] as string;
    if (!w.startsWith('-')) return false;
    if (!w.includes('=') && !flags.has(w)) i++;
  }
  return true;
}

/** yargs' completion function for the command line `argv` (which holds the words after the key). */
export function completeFor(argv: readonly string[]) {
  return (
    _current: string,
    _args: unknown,
    defaultCompletion: (onCompleted?: (err: Error | null, completions: string[] | undefined) => void) => void,
    done: (completions: string[]) => void,
  ): void => {
    // The shell scripts pass the command line from its first word, the program's name.
    const words = argv.slice(argv.indexOf('--get-yargs-completions') + 1);
    if (/(^|\/)cog-token$|main\.js$/.test(words[0] ?? '')) words.shift();
    if (profileExpected(words)) {
      done(profileNames());
      return;
    }
    defaultCompletion();
  };
}
