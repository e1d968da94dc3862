/** `cog-token status [--json]`: the daemon and each profile, without starting a daemon. */
import { resolvePaths } from '../../shared/paths.js';
import { protocolVersion } from '../../shared/protocol.js';
import { defineCommand } from '../get/runner.js';
import { requestIfRunning } from '../requests.js';
import { formatStatus } from '../status-format.js';

export const status = defineCommand({
  command: 'status',
  describe: 'show the daemon and each profile',
  builder: (y) => y.option('json', { type: 'boolean', describe: 'machine-readable output' }),
  handler: async (args) => {
    const paths = resolvePaths();
    const r = await requestIfRunning(paths, { v: protocolVersion, op: 'status' });
    if (!r) {
      if (args.json) process.stdout.write(`${JSON.stringify({ daemon: null, socket: paths.socketFile })}\n`);
      else process.stdout.write(`daemon: not running (socket ${paths.socketFile}); the next get starts it\n`);
      return undefined;
    }
    process.stdout.write(
      args.json ? `${JSON.stringify(r.status, null, 2)}\n` : formatStatus(r.status, Date.now()),
    );
    return undefined;
  },
});
