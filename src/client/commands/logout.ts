/** `cog-token logout <profile> [--local]`: revoke at Cognito, then forget the tokens here. */
import { resolvePaths } from '../../shared/paths.js';
import { protocolVersion } from '../../shared/protocol.js';
import { profileArg } from '../get/arg-checks.js';
import { defineCommand } from '../get/runner.js';
import { say } from '../get/say.js';
import { request } from '../requests.js';

export const logout = defineCommand({
  command: 'logout <profile>',
  describe: 'revoke the refresh token at Cognito, then delete the stored tokens',
  builder: (y) =>
    y.positional('profile', { type: 'string', demandOption: true }).option('local', {
      type: 'boolean',
      describe: 'delete the stored tokens without asking Cognito to revoke them',
    }),
  handler: async (args) => {
    const profile = profileArg(args.profile);
    const r = await request(
      resolvePaths(),
      { v: protocolVersion, op: 'logout', profile, ...(args.local ? { local: true } : {}) },
      { start: true },
    );
    say(
      r.revoked
        ? `profile ${profile}: signed out; refresh token revoked`
        : r.deleted
          ? `profile ${profile}: signed out here; the refresh token was not revoked at Cognito`
          : `profile ${profile}: was not signed in`,
    );
    return undefined;
  },
});
