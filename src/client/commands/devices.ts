/** `cog-token devices <profile> [--forget KEY] [--json]`: the user's remembered devices at Cognito. */
import { resolvePaths } from '../../shared/paths.js';
import { protocolVersion } from '../../shared/protocol.js';
import { formatDevices } from '../devices-format.js';
import { profileArg } from '../get/arg-checks.js';
import { defineCommand } from '../get/runner.js';
import { say } from '../get/say.js';
import { request } from '../requests.js';

export const devices = defineCommand({
  command: 'devices <profile>',
  describe: "list the user's devices Cognito remembers (* marks this machine's)",
  builder: (y) =>
    y
      .positional('profile', { type: 'string', demandOption: true })
      .option('forget', { type: 'string', describe: 'forget this device key (at Cognito and here)' })
      .option('json', { type: 'boolean', describe: 'machine-readable output' }),
  handler: async (args) => {
    const profile = profileArg(args.profile);
    const r = await request(
      resolvePaths(),
      { v: protocolVersion, op: 'devices', profile, ...(args.forget ? { forget: args.forget } : {}) },
      { start: true },
    );
    if (args.forget) say(`profile ${profile}: device ${args.forget} forgotten`);
    process.stdout.write(formatDevices(r.devices, args.json === true));
    return undefined;
  },
});
