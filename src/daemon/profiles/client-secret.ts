/**
 * client_secret, or client_secret_command's output: run in the daemon (refreshes happen with no client
 * around), its stdout less the line ending, kept in memory only. The command is bounded in time (the
 * profile's command_timeout; then its process group is killed) and size; a failure says how the command
 * ended, never what it printed.
 */
import type { ProfileConfig } from '../../shared/config.js';
import { CogTokenError } from '../../shared/errors.js';
import { runBoundedCommand } from '../../system/bounded-command.js';

export class ClientSecrets {
  private readonly pending = new Map<string, Promise<string>>();

  get(p: ProfileConfig): Promise<string | undefined> {
    if (p.clientSecret) return Promise.resolve(p.clientSecret);
    const command = p.clientSecretCommand;
    if (!command) return Promise.resolve(undefined);
    const key = `${p.name}\0${command}\0${p.commandTimeout}`;
    let secret = this.pending.get(key);
    if (!secret) {
      secret = run(p, command).catch((error: unknown) => {
        this.pending.delete(key); // the next request runs it again
        throw error;
      });
      this.pending.set(key, secret);
    }
    return secret;
  }
}

async function run(p: ProfileConfig, command: string): Promise<string> {
  const r = await runBoundedCommand(command, {
    env: { ...process.env, COG_TOKEN_PROFILE: p.name },
    timeoutSeconds: p.commandTimeout,
    maxBytes: 16 * 1024,
    stdin: 'ignore',
    stderr: 'ignore',
    ownGroup: true,
  });
  if (r.ok) return r.output;
  // A command of the user's that failed: its own exit status (9), not a config error.
  throw new CogTokenError('command-failed', {
    profile: p.name,
    problem: `client_secret_command ${r.why}`,
    remedy: commandFix(`client_secret_command ${r.why}`),
  });
}

/**
 * What to do about a command of the profile's (or its pinentry) that failed, from what the failure says: a
 * timeout, or a command or pinentry to fix, in the profile.
 */
export function commandFix(failure: string): string {
  if (/timed out/.test(failure)) return 'make it finish sooner or raise command_timeout in the profile';
  if (/pinentry/.test(failure)) return 'check pinentry_program (or install a pinentry)';
  return 'fix the command in the profile';
}
