/** `cog-token login <profile>`: a sign-in now, whatever is stored. */
import { profileArg } from '../get/arg-checks.js';
import { defineCommand } from '../get/runner.js';
import { say } from '../get/say.js';
import { getToken } from '../requests.js';

export const login = defineCommand({
  command: 'login <profile>',
  describe: 'sign in now, even if the stored tokens are valid',
  builder: (y) => y.positional('profile', { type: 'string', demandOption: true }),
  handler: async (args) => {
    const profile = profileArg(args.profile);
    const r = await getToken(profile, { forceSignIn: true });
    say(
      `profile ${profile}: signed in; ${r.kind} token valid until ${new Date(r.expiresAt * 1000).toISOString()}`,
    );
    return undefined;
  },
});
