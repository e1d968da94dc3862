/** `cog-token get <profile>`: print a valid token (or its --format) and nothing else on stdout. */
import { ExitStatus } from '../shared/errors.js';
import { resolvePaths } from '../shared/paths.js';
import type { GetArgs } from './get-args.js';
import { writeOut } from './output.js';
import { formatToken } from './output-formats.js';
import { checkMinValid, checkTimeout, getToken, profileArg } from './requests.js';

export async function runGet(args: GetArgs): Promise<number> {
  checkMinValid(args.minValid);
  checkTimeout(args.timeout);
  const profile = profileArg(args.profile);
  const paths = resolvePaths();
  const r = await getToken(profile, {
    ...(args.token ? { token: args.token } : {}),
    ...(args.minValid !== undefined ? { minValid: args.minValid } : {}),
    ...(args.timeout !== undefined ? { timeout: args.timeout } : {}),
    noInput: !args.input,
    paths,
  });
  // Only the header format needs a setting of the profile (header_prefix): only it parses the config.
  let headerPrefix: string | undefined;
  if (args.format === 'header') {
    const { loadConfig } = await import('../shared/config.js');
    headerPrefix = loadConfig(paths.configFile).profiles.get(profile)?.headerPrefix;
  }
  writeOut(1, formatToken(args.format, r, { profile, ...(headerPrefix ? { headerPrefix } : {}) }));
  return ExitStatus.ok;
}
