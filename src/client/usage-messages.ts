/**
 * yargs' failure messages told in cog-token's own words: each says what to type. cli.ts fixes yargs' locale
 * to English, so its messages have a known form; one this file does not know is passed on as it is.
 * Every message is a usage error (exit 2) naming the command it is about.
 */
import { CogTokenError } from '../shared/errors.js';
import { profileKeys } from '../shared/profile-keys.js';
import { closestProfile } from '../shared/profile-suggest.js';
import { clientConfig } from './client-config.js';
import { formats } from './get/output-formats.js';

/** The form of each command that takes words, as the user types it. */
const forms: Record<string, string> = {
  get: 'cog-token get PROFILE [--format token|header|json|env|kubectl]',
  exec: 'cog-token exec PROFILE -- COMMAND [ARGS...]',
  login: 'cog-token login PROFILE',
  logout: 'cog-token logout PROFILE [--local]',
  devices: 'cog-token devices PROFILE [--forget KEY]',
  configure: 'cog-token configure PROFILE [--user-pool-id ID --client-id ID --username NAME]',
  service: 'cog-token service install|uninstall|status',
  'git-credential':
    "cog-token git-credential get|store|erase (git runs it: credential.helper '!cog-token git-credential')",
};

/** Commands whose first word is a profile. */
const profileCommands = new Set(['get', 'exec', 'login', 'logout', 'devices', 'configure']);

/** Words people type for a command that has another name here. */
const synonyms: Record<string, string> = {
  list: 'profiles',
  ls: 'profiles',
  token: 'get',
  run: 'exec',
  signin: 'login',
  'sign-in': 'login',
  signout: 'logout',
  'sign-out': 'logout',
  config: 'configure',
  setup: 'configure',
  init: 'configure',
  version: '--version',
  help: '--help',
};

/** The values an option takes, when they are a fixed list: `get`'s formats, and the key table's choices. */
function choicesOf(option: string): readonly string[] | undefined {
  if (option === 'format') return formats;
  if (option === 'unset') return profileKeys.filter((k) => !k.required).map((k) => k.key);
  const spec = profileKeys.find((k) => (k.flag ?? k.key.replaceAll('_', '-')) === option);
  return spec?.choices ?? (spec?.type === 'boolean' ? ['true', 'false'] : undefined);
}

/** The configured profile names, for a message; none when the config cannot be read. */
function profileList(): string {
  try {
    const config = clientConfig();
    const names = [...config.profiles.keys(), ...config.broken.keys()].sort();
    return names.length > 0 ? `profiles: ${names.join(', ')}` : 'no profile yet: cog-token configure NAME';
  } catch {
    return 'the config file cannot be read: see cog-token profiles';
  }
}

function usage(where: string | undefined, problem: string, remedy: string): CogTokenError {
  return new CogTokenError('usage', { ...(where !== undefined ? { where } : {}), problem, remedy });
}

/** The option `name` as typed: `--format`, or `-f` for a one-letter name. */
function dashed(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

/** Whether `name` was typed as an option: after two dashes (with or without `=value`), or one letter after one. */
function typedAsOption(name: string, argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some(
    (a) =>
      a === `--${name}` ||
      a.startsWith(`--${name}=`) ||
      (name.length === 1 && /^-[A-Za-z]+$/.test(a) && a.includes(name)),
  );
}

/**
 * The usage error for yargs' `message`, given the command line `argv` and the command names (`commands`,
 * in the order help lists them).
 */
export function usageError(
  message: string,
  argv: readonly string[],
  commands: readonly string[],
): CogTokenError {
  const command = argv.find((a) => !a.startsWith('-'));
  const known = command !== undefined && commands.includes(command) ? command : undefined;
  const form = known !== undefined ? forms[known] : undefined;
  const help = known !== undefined ? `cog-token ${known} --help` : 'cog-token --help';

  if (/^Not enough non-option arguments/.test(message) && known !== undefined) {
    if (profileCommands.has(known)) {
      return usage(known, 'no profile given', `type ${form} (${profileList()})`);
    }
    return usage(known, 'a word is missing', `type ${form ?? help}`);
  }

  const unknown = /^Unknown arguments?: (.*)$/s.exec(message);
  if (unknown) {
    const words = (unknown[1] as string).split(', ').map((w) => w.trim());
    // The first word is no command: suggest the nearest one.
    if (known === undefined && command !== undefined && words.includes(command)) {
      const guess = synonyms[command.toLowerCase()] ?? closestProfile(command, commands);
      const list = `commands: ${commands.join(', ')}`;
      return usage(
        undefined,
        `there is no command "${command}"`,
        guess !== undefined ? `did you mean cog-token ${guess}? (${list})` : `use one of the ${list}`,
      );
    }
    const options = words.filter((w) => typedAsOption(w, argv));
    if (known === 'exec' && !argv.includes('--')) {
      return usage('exec', 'put -- before the command', `type ${form}`);
    }
    if (options.includes('json') && (known === 'get' || known === 'exec')) {
      return usage(
        known,
        '--json is not an option of this command',
        `for JSON, type --format json (${forms.get})`,
      );
    }
    if (options.length > 0) {
      const shown = options.map(dashed).join(', ');
      return usage(known, `no option ${shown}`, `see ${help}`);
    }
    return usage(
      known,
      `one word too many: ${words.map((w) => `"${w}"`).join(', ')}`,
      form !== undefined ? `type ${form}` : `see ${help}`,
    );
  }

  const invalid = /^Invalid values?:\s*Argument: (\S+), Given: (.*), Choices: (.*)$/s.exec(message);
  if (invalid) {
    const [, name, given, choices] = invalid as unknown as [string, string, string, string];
    const list = choices
      .split(', ')
      .map((c) => c.replace(/^"|"$/g, ''))
      .join(', ');
    const what = typedAsOption(name, argv) ? dashed(name) : name;
    const example = typedAsOption(name, argv) ? `${dashed(name)} ${list.split(', ')[0]}` : form;
    return usage(known, `${what} ${given.trim()} is not one of ${list}`, `type one, e.g. ${example ?? list}`);
  }

  const following = /^Not enough arguments following: (.*)$/s.exec(message);
  if (following) {
    const name = (following[1] as string).trim();
    const choices = choicesOf(name);
    return usage(
      known,
      `${dashed(name)} needs a value`,
      choices !== undefined ? `type one of ${choices.join(', ')} after it` : `see ${help}`,
    );
  }

  const required = /^Missing required arguments?: (.*)$/s.exec(message);
  if (required) {
    return usage(known, `missing ${(required[1] as string).trim()}`, `type ${form ?? help}`);
  }

  return usage(known, message.replace(/\s+/g, ' ').trim(), `see ${help}`);
}
