/** `cog-token daemon`: the daemon in the foreground (what a service manager starts). */
import { defineCommand } from '../get/runner.js';

export const daemon = defineCommand({
  command: 'daemon',
  describe: 'run the daemon in the foreground (what a service manager starts)',
  builder: (y) => y,
  handler: async () => {
    const { runDaemon } = await import('../../daemon/main.js');
    return runDaemon();
  },
});
