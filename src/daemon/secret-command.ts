/**
 * Runs client_secret_command in the daemon (refreshes happen with no client around): its stdout, less the
 * line ending, is the secret. Bounded in time (the profile's command_timeout; then its process group is
 * killed) and size; the secret stays in memory. A failure says how the command ended, never what it is.
 */
import { runBoundedCommand } from '../system/bounded-command.js';

const maxBytes = 16 * 1024;

export async function runSecretCommand(
  command: string,
  env: Record<string, string>,
  timeoutSeconds: number,
): Promise<string> {
  const r = await runBoundedCommand(command, {
    env: { ...process.env, ...env },
    timeoutSeconds,
    maxBytes,
    stdin: 'ignore',
    stderr: 'ignore',
    ownGroup: true,
  });
  if (!r.ok) throw new Error(r.why);
  return r.output;
}
