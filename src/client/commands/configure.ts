/** `cog-token configure <profile>`: write a profile to config.toml (configure.ts). */
import { resolvePaths } from '../../shared/paths.js';
import { configureProfile } from '../configure.js';
import { profileArg } from '../get/arg-checks.js';
import { defineCommand } from '../get/runner.js';
import { say } from '../get/say.js';

export const configure = defineCommand({
  command: 'configure <profile>',
  describe:
    'write a profile to config.toml (asks for what the flags do not give), keeping the rest of the file',
  builder: (y) =>
    y
      .positional('profile', { type: 'string', demandOption: true })
      .option('user-pool-id', { type: 'string', describe: 'e.g. eu-west-1_AbCdEf' })
      .option('region', { type: 'string', describe: "default: the pool ID's prefix" })
      .option('client-id', { type: 'string', describe: 'the app client ID' })
      .option('username', { type: 'string' })
      .option('auth-flow', { choices: ['USER_SRP_AUTH', 'USER_PASSWORD_AUTH'] as const })
      .option('endpoint', { type: 'string', describe: 'a Cognito endpoint URL (VPC, FIPS, emulator)' })
      .option('token', { choices: ['id', 'access'] as const, describe: 'what get prints by default' })
      .option('password-command', { type: 'string' })
      .option('mfa-command', { type: 'string' })
      .option('host', { type: 'string', array: true, describe: 'a host git may use this profile for' })
      .option('header-prefix', { type: 'string', describe: 'e.g. Bearer, for get --format header' })
      .option('input', {
        type: 'boolean',
        default: true,
        describe: 'ask on the terminal for what is missing (--no-input: fail instead)',
      }),
  handler: async (args) => {
    const profile = profileArg(args.profile);
    const file = resolvePaths().configFile;
    // A flag given twice arrives as a list: the last one counts, as with most tools.
    const one = (v: unknown): string | undefined =>
      v === undefined ? undefined : String(Array.isArray(v) ? v[v.length - 1] : v);
    const given = {
      userPoolId: one(args.userPoolId),
      region: one(args.region),
      clientId: one(args.clientId),
      username: one(args.username),
      authFlow: one(args.authFlow),
      endpoint: one(args.endpoint),
      token: one(args.token),
      passwordCommand: one(args.passwordCommand),
      mfaCommand: one(args.mfaCommand),
      hosts: args.host?.map(String),
      headerPrefix: one(args.headerPrefix),
    };
    const r = await configureProfile(
      profile,
      Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
      { file, input: args.input !== false },
    );
    say(
      `profile ${profile} ${r.created ? 'added to' : 'updated in'} ${r.file} (pool ${r.profile.userPoolId} in ${r.profile.region}, ${r.profile.authFlow}): run: cog-token login ${profile}`,
    );
    return undefined;
  },
});
