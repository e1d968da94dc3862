/** `cog-token stop`: stop the daemon, if one runs. */
import { resolvePaths } from '../../shared/paths.js';
import { protocolVersion } from '../../shared/protocol.js';
import { defineCommand } from '../get/runner.js';
import { say } from '../get/say.js';
import { requestIfRunning } from '../requests.js';

export const stop = defineCommand({
  command: 'stop',
  describe: 'stop the daemon',
  builder: (y) => y,
  handler: async () => {
    const r = await requestIfRunning(resolvePaths(), { v: protocolVersion, op: 'stop' });
    say(r ? `daemon ${r.pid} stopped` : 'no daemon is running');
    return undefined;
  },
});
