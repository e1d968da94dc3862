/** `cog-token reload`: the daemon re-reads config.toml now. */
import { ExitStatus } from '../../shared/errors.js';
import { resolvePaths } from '../../shared/paths.js';
import { protocolVersion } from '../../shared/protocol.js';
import { defineCommand } from '../get/runner.js';
import { say } from '../get/say.js';
import { requestIfRunning } from '../requests.js';

export const reload = defineCommand({
  command: 'reload',
  describe: 're-read config.toml now (the daemon also re-reads it whenever it changes)',
  builder: (y) => y,
  handler: async () => {
    const r = await requestIfRunning(resolvePaths(), { v: protocolVersion, op: 'reload' });
    if (!r) {
      say('no daemon is running; the next command reads the config');
      return undefined;
    }
    say(
      `config reloaded: ${r.profiles.length} profile(s) ready${r.profiles.length ? ` (${r.profiles.join(', ')})` : ''}`,
    );
    for (const b of r.broken) say(b.error);
    return r.broken.length > 0 ? ExitStatus.usage : ExitStatus.ok;
  },
});
