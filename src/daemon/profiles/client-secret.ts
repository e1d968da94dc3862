/** client_secret, or client_secret_command's output: run here (refreshes happen with no client around), kept in memory only. */
import type { ProfileConfig } from '../../shared/config.js';
import { runSecretCommand } from '../secret-command.js';

export class ClientSecrets {
  private readonly pending = new Map<string, Promise<string>>();

  get(p: ProfileConfig): Promise<string | undefined> {
    if (p.clientSecret) return Promise.resolve(p.clientSecret);
    const command = p.clientSecretCommand;
    if (!command) return Promise.resolve(undefined);
    const key = `${p.name}\0${command}\0${p.commandTimeout}`;
    let secret = this.pending.get(key);
    if (!secret) {
      secret = runSecretCommand(p, command).catch((error: unknown) => {
        this.pending.delete(key); // the next request runs it again
        throw error;
      });
      this.pending.set(key, secret);
    }
    return secret;
  }
}
