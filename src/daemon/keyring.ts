/**
 * The store's key in the OS keyring (Secret Service on Linux, Keychain on macOS) instead of the key file.
 * `COG_TOKEN_KEY_STORE` chooses for a new store: `auto` (default: the keyring when one is usable, else the
 * file), `keyring` or `file`. An existing store keeps using where its key is (token-store.ts records it).
 *
 * Every keyring call runs in a child process (keyring-helper.ts) with a deadline: a locked keyring waiting on
 * an unlock prompt, or a misbehaving one, fails the call instead of hanging the daemon.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Answer as HelperAnswer } from './keyring-helper.js';
import { log } from './log.js';

const service = 'cog-token';
const callTimeoutMs = 10_000;
const helper = fileURLToPath(new URL('./keyring-helper.js', import.meta.url));

/** Where the store's key lives. */
export type KeySource = 'file' | 'keyring';

export function keyStoreChoice(env: NodeJS.ProcessEnv = process.env): 'auto' | KeySource {
  const v = env.COG_TOKEN_KEY_STORE;
  if (v === undefined || v === '' || v === 'auto') return 'auto';
  if (v === 'file' || v === 'keyring') return v;
  log.warn(`COG_TOKEN_KEY_STORE=${v} is not auto, keyring or file: using auto`);
  return 'auto';
}

function call(op: 'probe' | 'get' | 'set', account: string, input?: string): HelperAnswer {
  let out: string;
  try {
    out = execFileSync(process.execPath, [helper, op, service, account], {
      input: input ?? '',
      encoding: 'utf8',
      timeout: callTimeoutMs,
      killSignal: 'SIGKILL',
      stdio: ['pipe', 'pipe', 'ignore'],
    });
  } catch (error) {
    const e = error as { signal?: string; message?: string };
    return {
      ok: false,
      error:
        e.signal === 'SIGKILL'
          ? `no answer within ${callTimeoutMs / 1000} s (a locked keyring waiting for an unlock prompt?)`
          : `the keyring helper failed: ${String(e.message).split('\n')[0]}`,
    };
  }
  try {
    return JSON.parse(out.trim().split('\n').pop() ?? '') as HelperAnswer;
  } catch {
    return { ok: false, error: 'the keyring helper answered something that is not JSON' };
  }
}

/** Why no session bus can be reached, or undefined when one may be (Linux only; elsewhere always). */
function noSessionBus(env: NodeJS.ProcessEnv): string | undefined {
  if (process.platform !== 'linux') return undefined;
  if (env.DBUS_SESSION_BUS_ADDRESS) return undefined;
  if (env.XDG_RUNTIME_DIR && existsSync(join(env.XDG_RUNTIME_DIR, 'bus'))) return undefined;
  return 'no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is unset';
}

/** The OS keyring, as the store uses it. Calls are bounded in time; errors say why. */
export class OsKeyring {
  /** For messages. */
  readonly name = process.platform === 'darwin' ? 'macOS Keychain' : 'Secret Service keyring';
  private checked?: string | null;

  /** undefined when usable, or why it is not (no session bus, no Secret Service, not persistent...). */
  unavailable(): string | undefined {
    if (this.checked === undefined) {
      const why = noSessionBus(process.env);
      if (why) {
        this.checked = why;
      } else {
        const r = call('probe', `probe-${process.pid}`);
        this.checked = r.ok ? null : (r.unavailable ?? r.error ?? 'unknown error');
      }
      if (this.checked) log.info(`OS keyring not used: ${this.checked}`);
    }
    return this.checked ?? undefined;
  }

  /** The key stored under `account`, undefined when there is none. Throws when the keyring fails. */
  get(account: string): Buffer | undefined {
    const r = call('get', account);
    if (!r.ok) throw new Error(`${this.name}: ${r.unavailable ?? r.error}`);
    return typeof r.value === 'string' ? Buffer.from(r.value, 'base64') : undefined;
  }

  set(account: string, key: Buffer): void {
    const r = call('set', account, key.toString('base64'));
    if (!r.ok) throw new Error(`${this.name}: ${r.unavailable ?? r.error}`);
  }
}

/** The OS keyring when the platform has one and @napi-rs/keyring is installed; undefined otherwise. */
export async function loadKeyring(): Promise<OsKeyring | undefined> {
  if (process.platform !== 'linux' && process.platform !== 'darwin') return undefined;
  try {
    import.meta.resolve('@napi-rs/keyring');
  } catch {
    log.debug('@napi-rs/keyring is not installed: the store key lives in the key file');
    return undefined;
  }
  return new OsKeyring();
}
