/** `cog-token get <profile>` in the forms main.ts leaves to yargs; both run get-command.ts. */
import { defaultTimeoutSeconds } from '../../shared/protocol.js';
import { runGet } from '../get/get-command.js';
import { type Format, formats } from '../get/output-formats.js';
import { defineCommand } from '../get/runner.js';

/** The options `get` and `exec` share: which token, and how long it must stay valid. */
export const tokenOptions = {
  token: {
    choices: ['id', 'access'] as const,
    requiresArg: true,
    describe: 'which token (default: the profile\'s "token")',
  },
  'min-valid': { type: 'number', requiresArg: true, describe: 'seconds the token must stay valid' },
  timeout: {
    type: 'number',
    requiresArg: true,
    describe: `seconds to wait for Cognito before failing with exit 5 (default ${defaultTimeoutSeconds})`,
  },
} as const;

export const get = defineCommand({
  command: 'get <profile>',
  describe: 'print a valid token for the profile (and nothing else)',
  builder: (y) =>
    y
      .positional('profile', { type: 'string', demandOption: true })
      .options(tokenOptions)
      .option('input', {
        type: 'boolean',
        default: true,
        describe:
          "ask a person for a password or code when a sign-in needs one (--no-input: never; the profile's commands still answer, else exit 3)",
      })
      .option('format', {
        choices: formats,
        requiresArg: true,
        default: 'token' as Format,
        describe:
          'token; header ("Authorization: ..." for curl -H @-); json; env (shell exports); kubectl (ExecCredential)',
      }),
  handler: (args) =>
    runGet({
      profile: args.profile,
      ...(args.token ? { token: args.token } : {}),
      ...(args.minValid !== undefined ? { minValid: args.minValid } : {}),
      ...(args.timeout !== undefined ? { timeout: args.timeout } : {}),
      input: args.input !== false,
      format: args.format,
    }),
});
