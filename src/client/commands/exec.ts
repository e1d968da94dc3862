/** `cog-token exec <profile> -- <command>`: the command runs with the token in its environment. */
import { checkMinValid, checkTimeout, profileArg } from '../get/arg-checks.js';
import { defineCommand } from '../get/runner.js';
import { say } from '../get/say.js';
import { getAwsCredentials, getToken } from '../requests.js';
import { checkCommand, runWithEnv } from '../run-with-env.js';
import { awsEnvironment } from './aws-credentials.js';
import { tokenOptions } from './get.js';

export const exec = defineCommand({
  command: 'exec <profile> [command..]',
  describe:
    'run a command with the token in COG_TOKEN (and COG_TOKEN_EXPIRES_AT); its exit status is passed through',
  builder: (y) =>
    y
      .usage('$0 exec <profile> -- <command> [args...]')
      .positional('profile', { type: 'string', demandOption: true })
      .positional('command', { type: 'string', array: true, describe: 'the command, after --' })
      .options(tokenOptions)
      .option('aws', {
        type: 'boolean',
        describe:
          "also set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and AWS_CREDENTIAL_EXPIRATION (the profile's identity pool)",
      })
      .option('input', {
        type: 'boolean',
        default: true,
        describe:
          "ask a person for a password or code when a sign-in needs one (--no-input: never; the profile's commands still answer, else exit 3)",
      }),
  handler: async (args, argv) => {
    checkMinValid(args.minValid);
    checkTimeout(args.timeout);
    const profile = profileArg(args.profile);
    // Everything after the first "--" exactly as given (yargs would turn "007" into 7).
    const dashes = argv.indexOf('--');
    const command =
      dashes === -1
        ? (args.command ?? []).map(String)
        : [...(args.command ?? []).map(String), ...argv.slice(dashes + 1)];
    checkCommand(command);
    const r = await getToken(profile, {
      ...(args.token ? { token: args.token } : {}),
      ...(args.minValid !== undefined ? { minValid: args.minValid } : {}),
      ...(args.timeout !== undefined ? { timeout: args.timeout } : {}),
      noInput: args.input === false,
    });
    const aws = args.aws
      ? awsEnvironment(await getAwsCredentials(profile, { noInput: args.input === false }))
      : {};
    const result = await runWithEnv(command, {
      COG_TOKEN: r.token,
      COG_TOKEN_EXPIRES_AT: String(r.expiresAt),
      ...aws,
    });
    if (result.error) say(result.error);
    return result.status;
  },
});
