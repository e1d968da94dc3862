/**
 * The secrets-at-rest check behind every test that uses a CogEnv: before an environment is removed, every
 * file cog-token left in it (database, -wal, -shm, key file, daemon log at debug level, lock, socket
 * directory...) is scanned for every secret the environment saw:
 * - anything shaped like a JWT segment (header or claims, `eyJ...`), whichever token it came from;
 * - each token the command line printed, and each of its three segments (a signature alone is a leak too);
 * - what the store holds at the end (id, access and refresh tokens, device passwords, AWS credentials),
 *   unsealed read-only;
 * - the passwords, codes and secrets a test passed in (environment variables named like PW, PASS, SECRET,
 *   CODE, OTP, and the literal outputs of countingCommand), and client_secret values in the config.
 * Files the test wrote itself (config.toml, its command scripts and run counters) are not cog-token's and are
 * skipped. Hits are reported by file and kind, with the secret shortened.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { unseal } from '../../src/daemon/key-file.js';

export interface Scannable {
  readonly root: string;
  readonly configFile: string;
  readonly databaseFile: string;
  readonly keyFile: string;
  readonly secrets: ReadonlySet<string>;
}

/** Environment variable names whose values are secrets (passwords, codes, client secrets, TOTP seeds). */
export function isSecretName(name: string): boolean {
  if (/^(COG_TOKEN_|XDG_|DBUS_|PATH$|HOME$)/.test(name)) return false;
  return /(PW|PASS|SECRET|CODE|OTP)/i.test(name);
}

const jwtSegment = /eyJ[A-Za-z0-9_-]{16,}/g;
const jwt = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g;

/** Tokens in a piece of output, and their segments. */
export function tokensIn(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(jwt)) {
    out.push(m[0], ...m[0].split('.').filter((s) => s.length >= 16));
  }
  return out;
}

/** What the store holds, read without changing anything (the key file and database opened read-only). */
function storedSecrets(env: Scannable): string[] {
  if (!existsSync(env.databaseFile) || !existsSync(env.keyFile)) return [];
  const key = readFileSync(env.keyFile);
  if (key.length !== 32) return [];
  const out: string[] = [];
  let db: Database.Database | undefined;
  try {
    db = new Database(env.databaseFile, { readonly: true, fileMustExist: true });
    const open = (profile: string, field: string, value: Buffer | null) => {
      if (!value) return;
      try {
        const plain = unseal(key, profile, field, value);
        out.push(plain, ...tokensIn(plain));
      } catch {
        // Sealed under another key (moved-aside data, a test's wrong key): nothing to learn here.
      }
    };
    for (const row of db.prepare('SELECT * FROM profiles').all() as Record<string, unknown>[]) {
      for (const field of ['id_token', 'access_token', 'refresh_token']) {
        open(String(row.name), field, row[field] as Buffer | null);
      }
    }
    const hasDevices = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'devices'").get();
    if (hasDevices) {
      for (const row of db.prepare('SELECT profile, device_password FROM devices').all() as {
        profile: string;
        device_password: Buffer;
      }[]) {
        open(row.profile, 'device_password', row.device_password);
      }
    }
    const hasAws = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'aws_credentials'").get();
    if (hasAws) {
      for (const row of db.prepare('SELECT * FROM aws_credentials').all() as Record<string, unknown>[]) {
        for (const field of ['access_key_id', 'secret_access_key', 'session_token']) {
          open(String(row.profile), field, row[field] as Buffer | null);
        }
      }
    }
  } catch {
    // A damaged or foreign database (tests make those on purpose): the generic scan still runs.
  } finally {
    db?.close();
  }
  return out;
}

function configSecrets(env: Scannable): string[] {
  try {
    const text = readFileSync(env.configFile, 'utf8');
    return [...text.matchAll(/client_secret\s*=\s*"([^"]+)"/g)].map((m) => m[1] as string);
  } catch {
    return [];
  }
}

function testAuthored(env: Scannable, file: string): boolean {
  const name = file.split('/').pop() ?? '';
  if (file === env.configFile) return true;
  const rel = relative(env.root, file);
  return !rel.includes('/') && (name.startsWith('runs.') || name.startsWith('cmd.'));
}

function files(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...files(p));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

function shorten(secret: string): string {
  return secret.length > 12
    ? `${secret.slice(0, 6)}…${secret.slice(-4)} (${secret.length} chars)`
    : `${secret.slice(0, 2)}… (${secret.length} chars)`;
}

export interface ScanReport {
  files: number;
  secrets: number;
  hits: string[];
}

/** Scans everything cog-token left under the environment's root. */
export function scanEnvironment(env: Scannable): ScanReport {
  const secrets = new Set<string>();
  for (const s of [...env.secrets, ...storedSecrets(env), ...configSecrets(env)]) {
    if (s.length >= 6) secrets.add(s);
  }
  const hits: string[] = [];
  let scanned = 0;
  if (!existsSync(env.root)) return { files: 0, secrets: secrets.size, hits };
  for (const file of files(env.root)) {
    if (testAuthored(env, file)) continue;
    if (statSync(file).size > 64 * 1024 * 1024) continue;
    scanned++;
    const text = readFileSync(file).toString('latin1');
    const where = relative(env.root, file);
    const generic = text.match(jwtSegment);
    if (generic) hits.push(`${where}: a JWT segment ${shorten(generic[0])}`);
    for (const secret of secrets) {
      const found = /^\d+$/.test(secret)
        ? new RegExp(`(?<![A-Za-z0-9])${secret}(?![A-Za-z0-9])`).test(text)
        : text.includes(secret);
      if (found) hits.push(`${where}: secret ${shorten(secret)}`);
    }
  }
  return { files: scanned, secrets: secrets.size, hits };
}
