/**
 * The `get` command line parsed by hand, for the hot path: `$(cog-token get dev)` runs inside other commands
 * many times a minute, and loading a full parser costs more than the rest of the command. Only the plain
 * forms are taken here; anything else (help, an unknown, repeated or camel-case option, a value that needs
 * checking, `--`) returns undefined and goes to yargs (cli.ts), which parses it as it always did, messages
 * included. For each form taken here, the result is what yargs gives.
 */
import { isProfileName, type TokenKind } from '../../shared/protocol.js';
import { type Format, formats } from './output-formats.js';

export interface GetArgs {
  profile: string;
  token?: TokenKind;
  minValid?: number;
  timeout?: number;
  /** false with --no-input. */
  input: boolean;
  format: Format;
}

/** A plain non-negative decimal ("600", "0.5"): yargs reads it as the same number. */
const plainNumber = /^(?:0|[1-9]\d{0,8})(?:\.\d{1,6})?$/;

export function parseGetArgs(argv: readonly string[]): GetArgs | undefined {
  if (argv[0] !== 'get') return undefined;
  let profile: string | undefined;
  const seen = new Set<string>();
  const out: Omit<GetArgs, 'profile'> = { input: true, format: 'token' };
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-')) {
      // A name that reads as a number is left to yargs, whatever it makes of it.
      if (profile !== undefined || !isProfileName(arg) || !Number.isNaN(Number(arg))) return undefined;
      profile = arg;
      continue;
    }
    let name: string;
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (eq === -1) {
      name = arg;
    } else {
      name = arg.slice(0, eq);
      value = arg.slice(eq + 1);
    }
    if (seen.has(name)) return undefined;
    seen.add(name);
    if (name === '--no-input' || name === '--input') {
      if (value !== undefined || seen.has(name === '--input' ? '--no-input' : '--input')) return undefined;
      out.input = name === '--input';
      continue;
    }
    if (name !== '--token' && name !== '--min-valid' && name !== '--timeout' && name !== '--format')
      return undefined;
    if (value === undefined) {
      value = argv[++i];
      // yargs would take a following option as no value; leave that (an error) to it.
      if (value === undefined || value.startsWith('-')) return undefined;
    }
    if (name === '--token') {
      if (value !== 'id' && value !== 'access') return undefined;
      out.token = value;
    } else if (name === '--min-valid' || name === '--timeout') {
      if (!plainNumber.test(value)) return undefined;
      if (name === '--min-valid') out.minValid = Number(value);
      else out.timeout = Number(value);
    } else {
      if (!(formats as readonly string[]).includes(value)) return undefined;
      out.format = value as Format;
    }
  }
  if (profile === undefined) return undefined;
  return { profile, ...out };
}
