/** `cog-token configure <profile>`: write a profile to config.toml (configure.ts). */
import { resolvePaths } from '../../shared/paths.js';
import { answersFromFlags, configureOptions, configureProfile } from '../configure.js';
import { profileArg } from '../get/arg-checks.js';
import { defineCommand } from '../get/runner.js';
import { say } from '../get/say.js';

export const configure = defineCommand({
  command: 'configure <profile>',
  describe:
    'write a profile to config.toml (asks for what the flags do not give), keeping the rest of the file',
  builder: (y) =>
    configureOptions(y.positional('profile', { type: 'string', demandOption: true })).option('input', {
      type: 'boolean',
      default: true,
      describe: 'ask on the terminal for what is missing (--no-input: fail instead)',
    }),
  handler: async (args) => {
    const profile = profileArg(args.profile);
    const file = resolvePaths().configFile;
    const r = await configureProfile(profile, answersFromFlags(args), { file, input: args.input !== false });
    const where =
      r.profile.userPoolId !== undefined
        ? `pool ${r.profile.userPoolId} in ${r.profile.region}`
        : `domain ${r.profile.domain}`;
    say(
      `profile ${profile} ${r.created ? 'added to' : 'updated in'} ${r.file} (${where}, ${r.profile.authFlow}): run: cog-token login ${profile}`,
    );
    return undefined;
  },
});
