/**
 * Runs client_secret_command in the daemon (refreshes happen with no client around): its stdout, less the
 * line ending, is the secret. Bounded in time (the profile's command_timeout; then its process group is
 * killed) and size; the secret stays in memory. A failure says how the command ended, never what it printed.
 */
import type { ProfileConfig } from '../shared/config.js';
import { ConfigError } from '../shared/errors.js';
import { runBoundedCommand } from '../system/bounded-command.js';

const maxBytes = 16 * 1024;

export async function runSecretCommand(p: ProfileConfig, command: string): Promise<string> {
  const r = await runBoundedCommand(command, {
    env: { ...process.env, COG_TOKEN_PROFILE: p.name },
    timeoutSeconds: p.commandTimeout,
    maxBytes,
    stdin: 'ignore',
    stderr: 'ignore',
    ownGroup: true,
  });
  if (r.ok) return r.output;
  throw new ConfigError({
    profile: p.name,
    problem: `client_secret_command ${r.why}`,
    remedy: `${commandFix(r.why)} in the profile`,
  });
}

/** What to do about a command of the profile's that failed, from how it ended. */
export function commandFix(why: string): string {
  return /timed out/.test(why) ? 'make it finish sooner or raise command_timeout' : 'fix the command';
}
