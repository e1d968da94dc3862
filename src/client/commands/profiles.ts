/**
 * `cog-token profiles [--json]`: the profiles of the config file, read here (no daemon is asked or started):
 * each one's sign-in flow, pool and client (or sign-in domain), and the hosts git may use it for; a broken
 * one with what is wrong. No config file, or one with no profile, says so and how to write one.
 */
import type { ProfileConfig } from '../../shared/config.js';
import { CogTokenError } from '../../shared/errors.js';
import { printable } from '../../shared/printable.js';
import { clientConfig } from '../client-config.js';
import { defineCommand } from '../get/runner.js';

/** What a profile signs in to: its pool and app client, or the managed-login domain where it has one. */
function target(p: ProfileConfig): string {
  const domain = (p as unknown as { domain?: unknown }).domain;
  const where = typeof domain === 'string' ? `domain ${domain}` : `pool ${p.userPoolId}`;
  return `${where}, client ${p.clientId}`;
}

export const profiles = defineCommand({
  command: 'profiles',
  describe: 'list the profiles of the config file (read here; no daemon is started)',
  builder: (y) => y.option('json', { type: 'boolean', describe: 'machine-readable output' }),
  handler: async (args) => {
    const config = clientConfig();
    const names = [...config.profiles.keys(), ...config.broken.keys()].sort();
    if (names.length === 0) {
      throw new CogTokenError('config', {
        where: config.file,
        problem: config.missing ? 'there is no config file' : 'the config file holds no profile',
        remedy: 'run: cog-token configure NAME (NAME: what you will call the profile, e.g. dev)',
      });
    }
    if (args.json) {
      const list = names.map((name) => {
        const p = config.profiles.get(name);
        if (!p) return { name, error: config.broken.get(name)?.problem };
        return {
          name,
          authFlow: p.authFlow,
          region: p.region,
          userPoolId: p.userPoolId,
          clientId: p.clientId,
          username: p.username,
          hosts: p.hosts,
        };
      });
      process.stdout.write(`${JSON.stringify({ config: config.file, profiles: list }, null, 2)}\n`);
      return undefined;
    }
    const width = Math.max(...names.map((n) => n.length));
    const lines = [`config: ${config.file}`];
    for (const name of names) {
      const p = config.profiles.get(name);
      const head = name.padEnd(width);
      if (!p) {
        lines.push(`${head}  broken: ${config.broken.get(name)?.problem ?? 'unreadable'}`);
        continue;
      }
      const hosts = p.hosts.length > 0 ? `hosts ${p.hosts.join(', ')}` : 'no hosts (not used by git)';
      lines.push(`${head}  ${p.authFlow}, ${target(p)}, user ${p.username}; ${hosts}`);
    }
    // Names and values come from the file: no control characters reach the terminal.
    process.stdout.write(`${lines.map((line) => printable(line)).join('\n')}\n`);
    return undefined;
  },
});
