/** `cog-token status [--json]`: the daemon and each profile, without starting a daemon. */
import { existsSync } from 'node:fs';
import { type Config, loadConfig } from '../../shared/config.js';
import { messageOf } from '../../shared/errors.js';
import { resolvePaths } from '../../shared/paths.js';
import { printable } from '../../shared/printable.js';
import { protocolVersion } from '../../shared/protocol.js';
import { defineCommand } from '../get/runner.js';
import { requestIfRunning } from '../requests.js';
import { configuredProfiles, formatStatus } from '../status-format.js';

export const status = defineCommand({
  command: 'status',
  describe: 'show the daemon and each profile',
  builder: (y) => y.option('json', { type: 'boolean', describe: 'machine-readable output' }),
  handler: async (args) => {
    const paths = resolvePaths();
    const r = await requestIfRunning(paths, { v: protocolVersion, op: 'status' });
    if (r) {
      process.stdout.write(
        args.json ? `${JSON.stringify(r.status, null, 2)}\n` : formatStatus(r.status, Date.now()),
      );
      return undefined;
    }
    // No daemon: what the config file says (the tokens are known to the daemon alone).
    let config: Config | undefined;
    let configError: string | undefined;
    try {
      config = loadConfig(paths.configFile);
    } catch (error) {
      configError = messageOf(error);
    }
    const profiles = config ? configuredProfiles(config) : [];
    const missing = !existsSync(paths.configFile);
    if (args.json) {
      const shown = { daemon: null, socket: paths.socketFile, configFile: paths.configFile, profiles };
      process.stdout.write(`${JSON.stringify({ ...shown, ...(configError ? { configError } : {}) })}\n`);
      return undefined;
    }
    const lines = [
      `daemon: not running (socket ${paths.socketFile}); the next get starts it`,
      missing
        ? `config: ${paths.configFile} does not exist: run cog-token configure`
        : `config: ${paths.configFile}${configError ? ` (error: ${configError})` : ''}`,
      `log: ${paths.logFile}`,
    ];
    if (!missing && !configError && profiles.length === 0) lines.push('profiles: none');
    for (const p of profiles) {
      lines.push(
        p.error
          ? `profile ${p.name}: broken: ${p.error}`
          : `profile ${p.name}: as ${p.username} (its tokens are known once the daemon runs)`,
      );
    }
    process.stdout.write(`${lines.map((line) => printable(line)).join('\n')}\n`);
    return undefined;
  },
});
