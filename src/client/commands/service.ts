/** `cog-token service install|uninstall|status`: the daemon as a systemd user service or launchd agent. */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CogTokenError } from '../../shared/errors.js';
import { resolvePaths } from '../../shared/paths.js';
import { protocolVersion } from '../../shared/protocol.js';
import { defineCommand } from '../get/runner.js';
import { say } from '../get/say.js';
import { requestIfRunning } from '../requests.js';
import { fileStates, installFiles, type Platform, servicePlan, uninstallFiles } from '../service-install.js';

/** The file a service manager runs: the client's entry point, main.js, beside the bundle this is in. */
const entryFile = fileURLToPath(new URL('./main.js', import.meta.url));

export const service = defineCommand({
  command: 'service <action>',
  describe: 'run the daemon as a systemd user service (socket-activated) or a launchd agent',
  builder: (y) =>
    y
      .usage('$0 service install|uninstall|status')
      .positional('action', {
        choices: ['install', 'uninstall', 'status'] as const,
        demandOption: true,
        describe:
          'install: write the unit files (systemd user units, or a launchd agent) and print the command that enables them; uninstall: remove them and print the command that disables them; status: whether they are installed and current, and whether the daemon runs',
      })
      .option('platform', {
        choices: ['linux', 'darwin'] as const,
        hidden: true,
        describe: 'write the files of another platform (for packaging and tests)',
      }),
  handler: async (args) => {
    const platform: Platform = args.platform ?? (process.platform === 'darwin' ? 'darwin' : 'linux');
    if (!args.platform && process.platform !== 'linux' && process.platform !== 'darwin') {
      throw new CogTokenError('usage', {
        where: 'service',
        problem: `${process.platform} has neither systemd nor launchd`,
        remedy: 'run cog-token daemon from your own service manager',
      });
    }
    const plan = servicePlan({
      platform,
      env: process.env,
      node: realpathSync(process.execPath),
      entry: realpathSync(entryFile),
      logFile: resolvePaths().logFile,
      uid: process.getuid?.() ?? 0,
    });
    if (args.action === 'install') {
      for (const w of plan.warnings) say(`warning: ${w}`);
      installFiles(plan);
      for (const f of plan.files) say(`wrote ${f.path}`);
      process.stdout.write(`${plan.enable}\n`);
      return undefined;
    }
    if (args.action === 'uninstall') {
      const removed = uninstallFiles(plan, process.env);
      for (const f of removed) say(`removed ${f}`);
      if (removed.length === 0) say('the service was not installed');
      else process.stdout.write(`${plan.disable}\n`);
      return undefined;
    }
    const states = fileStates(plan);
    for (const f of states) {
      const what = {
        absent: 'not installed',
        current: 'installed',
        outdated: 'differs from what install writes now: run cog-token service install',
      }[f.state];
      process.stdout.write(`${f.path}: ${what}\n`);
    }
    const paths = resolvePaths();
    const r = await requestIfRunning(paths, { v: protocolVersion, op: 'ping' });
    if (r) process.stdout.write(`daemon: pid ${r.pid}, version ${r.version}\n`);
    else process.stdout.write(`daemon: not running (socket ${paths.socketFile})\n`);
    if (states.some((f) => f.state !== 'absent')) {
      process.stdout.write(
        platform === 'linux'
          ? 'systemd: systemctl --user status cog-token.socket cog-token.service\n'
          : `launchd: launchctl print gui/${process.getuid?.() ?? 0}/io.github.cog-token.daemon\n`,
      );
    }
    return undefined;
  },
});
