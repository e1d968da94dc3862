/**
 * Runs in a child process of the daemon (keyring.ts), so that a keyring that hangs (a locked keyring waiting
 * for an unlock prompt nobody sees) or crashes cannot take the daemon with it. Talks to the OS keyring
 * through @napi-rs/keyring: the Secret Service on Linux (GNOME Keyring, KWallet, KeePassXC), the Keychain on
 * macOS. Usage: keyring-helper.js probe|get|set SERVICE ACCOUNT; `set` reads the secret on stdin, `get`
 * prints it on stdout (a pipe to the daemon). Prints one JSON line.
 *
 * On Linux, @napi-rs/keyring silently falls back to the kernel keyring (keyutils) when no Secret Service
 * answers. That one forgets everything at logout or reboot, which would lose the store's key: `probe` and
 * `set` look for the entry in /proc/keys and treat such a keyring as unavailable.
 */
import { readFileSync } from 'node:fs';
import { messageOf } from '../shared/errors.js';

export interface Answer {
  ok: boolean;
  value?: string | null;
  unavailable?: string;
  error?: string;
}

function reply(answer: Answer): void {
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}

function inKernelKeyring(service: string, account: string): boolean {
  if (process.platform !== 'linux') return false;
  try {
    return readFileSync('/proc/keys', 'utf8').includes(`${account}@${service}`);
  } catch {
    return false;
  }
}

const notPersistent =
  'no Secret Service answers on the session bus (only the kernel keyring, which forgets at logout or reboot)';

async function main(): Promise<void> {
  const [op, service, account] = process.argv.slice(2);
  if (!op || !service || !account) return reply({ ok: false, error: 'usage: probe|get|set SERVICE ACCOUNT' });
  type Entry = {
    getPassword(): string | null | undefined;
    setPassword(value: string): void;
    deleteCredential(): boolean;
  };
  let EntryClass: new (service: string, account: string) => Entry;
  try {
    const mod = (await import('@napi-rs/keyring')) as unknown as {
      Entry: new (service: string, account: string) => Entry;
    };
    EntryClass = mod.Entry;
  } catch (error) {
    return reply({
      ok: false,
      unavailable: `@napi-rs/keyring cannot be loaded (${messageOf(error)})`,
    });
  }
  const entry = new EntryClass(service, account);
  try {
    switch (op) {
      case 'probe': {
        entry.setPassword('probe');
        const kernel = inKernelKeyring(service, account);
        const back = entry.getPassword();
        entry.deleteCredential();
        if (kernel) return reply({ ok: false, unavailable: notPersistent });
        if (back !== 'probe')
          return reply({ ok: false, unavailable: 'the keyring did not keep a test entry' });
        return reply({ ok: true });
      }
      case 'get': {
        let value: string | null | undefined;
        try {
          value = entry.getPassword();
        } catch (error) {
          if (/no (matching )?entry|not found/i.test(messageOf(error))) value = null;
          else throw error;
        }
        return reply({ ok: true, value: value ?? null });
      }
      case 'set': {
        const value = readFileSync(0, 'utf8').trim();
        entry.setPassword(value);
        if (inKernelKeyring(service, account)) {
          entry.deleteCredential();
          return reply({ ok: false, unavailable: notPersistent });
        }
        return reply({ ok: true });
      }
      default:
        return reply({ ok: false, error: `unknown operation ${op}` });
    }
  } catch (error) {
    return reply({ ok: false, error: messageOf(error) });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    reply({ ok: false, error: String(error) });
    process.exit(0);
  },
);
