/** `cog-token git-credential get|store|erase`: the git credential helper (git-credential.ts). */
import { resolvePaths } from '../../shared/paths.js';
import { protocolVersion } from '../../shared/protocol.js';
import { clientConfig } from '../client-config.js';
import { defineCommand } from '../get/runner.js';
import { say } from '../get/say.js';
import { gitCredential, readCredentialRequest } from '../git-credential.js';
import { getToken, request } from '../requests.js';

/** git sets GIT_TERMINAL_PROMPT=0 when nobody may be asked on the terminal. */
function gitAllowsTerminal(): boolean {
  const v = (process.env.GIT_TERMINAL_PROMPT ?? '').toLowerCase();
  return !(v === '0' || v === 'false' || v === 'no' || v === 'off');
}

export const gitCredentialCommand = defineCommand({
  command: 'git-credential <action>',
  describe: "git credential helper: git config --global credential.helper '!cog-token git-credential'",
  builder: (y) =>
    y.positional('action', {
      type: 'string',
      demandOption: true,
      describe: 'get (answer for a host a profile claims), store (nothing), erase (drop the cached token)',
    }),
  handler: async (args) => {
    const text = await readCredentialRequest(process.stdin);
    return gitCredential(String(args.action), text, {
      config: clientConfig,
      getToken: (profile) => getToken(profile, { terminal: gitAllowsTerminal() }),
      invalidate: async (profile) => {
        await request(resolvePaths(), { v: protocolVersion, op: 'invalidate', profile }, { start: true });
      },
      write: (out) => process.stdout.write(out),
      say,
    });
  },
});
