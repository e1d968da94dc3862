/**
 * The encrypted SQLite store (better-sqlite3, WAL). Secrets are sealed field by field (key-file.ts), so the
 * database, its -wal and -shm files hold only ciphertext. Schema versions live in PRAGMA user_version.
 *
 * Opening never wipes data and never loops on damage: a database SQLite cannot read, or one whose key is
 * lost, damaged or does not match, is moved aside (kept, renamed with a timestamp) and a fresh store takes
 * its place, with a notice for the user, who then signs in again. A store that is merely unusable here (a
 * newer schema, a key in a keyring this process cannot reach, files others can read) is refused with a
 * message instead, and left as it is.
 */

import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { messageOf, UnsafeStateError } from '../shared/errors.js';
import { ensurePrivateDir } from '../system/private-directory.js';
import { type Clock, systemClock } from './clock.js';
import { createKeyFile, keyCheck, readKeyFile, seal, unseal } from './key-file.js';
import type { KeySource, OsKeyring } from './keyring.js';
import { log } from './log.js';

export interface Tokens {
  idToken: string;
  accessToken: string;
  refreshToken?: string;
  /** Epoch seconds. */
  idExpiresAt: number;
  accessExpiresAt: number;
  issuedAt: number;
  /** When the refresh token was issued: the last real sign-in (a refresh, rotating or not, keeps it). */
  signedInAt?: number;
  /** Cognito's own name for the user (cognito:username), which refresh needs for SECRET_HASH. */
  username?: string;
}

export type RefreshApi = 'GetTokensFromRefreshToken' | 'REFRESH_TOKEN_AUTH';

export interface StoredProfile {
  /** What the tokens belong to (config.ts profileIdentity); stale when the profile was re-pointed. */
  identity: string;
  tokens?: Tokens;
  needsSignIn: boolean;
  /** Which refresh call worked last for this profile. */
  refreshApi?: RefreshApi;
}

/** A device Cognito remembers for this user: its password is the secret that proves it. */
export interface DeviceRecord {
  deviceKey: string;
  deviceGroupKey: string;
  devicePassword: string;
}

/** Each entry moves the schema from version i to i + 1. Never edit a released entry: add one. */
const migrations: readonly string[] = [
  `CREATE TABLE profiles (
     name TEXT PRIMARY KEY,
     identity TEXT NOT NULL,
     username TEXT,
     id_token BLOB,
     access_token BLOB,
     refresh_token BLOB,
     id_expires_at INTEGER,
     access_expires_at INTEGER,
     issued_at INTEGER,
     needs_sign_in INTEGER NOT NULL DEFAULT 0,
     updated_at INTEGER NOT NULL
   ) STRICT`,
  `CREATE TABLE devices (
     profile TEXT PRIMARY KEY,
     identity TEXT NOT NULL,
     device_key TEXT NOT NULL,
     device_group_key TEXT NOT NULL,
     device_password BLOB NOT NULL,
     created_at INTEGER NOT NULL
   ) STRICT;
   ALTER TABLE profiles ADD COLUMN refresh_api TEXT`,
  // v3: where the key lives (key_source) and a check value that tells a wrong key from damaged data.
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT`,
  // v4: AWS credentials from an identity pool (profiles/aws-credentials.ts), the keys sealed.
  `CREATE TABLE aws_credentials (
     profile TEXT PRIMARY KEY,
     identity TEXT NOT NULL,
     identity_id TEXT NOT NULL,
     access_key_id BLOB,
     secret_access_key BLOB,
     session_token BLOB,
     issued_at INTEGER,
     expires_at INTEGER,
     updated_at INTEGER NOT NULL
   ) STRICT`,
  // v5: when the refresh token was issued (the last sign-in), and when get last warned of its expiry.
  `ALTER TABLE profiles ADD COLUMN signed_in_at INTEGER;
   ALTER TABLE profiles ADD COLUMN expiry_warned_at INTEGER`,
];
export const schemaVersion = migrations.length;

interface Row {
  name: string;
  identity: string;
  username: string | null;
  id_token: Buffer | null;
  access_token: Buffer | null;
  refresh_token: Buffer | null;
  id_expires_at: number | null;
  access_expires_at: number | null;
  issued_at: number | null;
  needs_sign_in: number;
  refresh_api: string | null;
  signed_in_at: number | null;
}

/** A profile's identity-pool state: its IdentityId, and the credentials last issued (keys unsealed). */
export interface StoredAwsCredentials {
  identityId: string;
  credentials?: {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken: string;
    /** Epoch seconds. */
    issuedAt: number;
    expiresAt: number;
  };
}

export interface OpenOptions {
  /** Where a new store's key goes: `auto` (the keyring when usable, else the file), `file` or `keyring`. */
  keyStore?: 'auto' | KeySource;
  keyring?: OsKeyring;
  /** updated_at and created_at, and the time in a moved-aside file's name. */
  clock?: Clock;
}

export class TokenStore {
  private constructor(
    private readonly db: Database.Database,
    private readonly key: Buffer,
    readonly file: string,
    /** Where the key lives, e.g. "key file /home/a/.local/state/cog-token/store.key". */
    readonly keyLocation: string,
    private readonly clock: Clock,
    /** What happened while opening that the user should hear about (a damaged file moved aside...). */
    readonly notices: string[],
  ) {}

  /** Opens (creating or migrating) the store and its key, as the header says; see `notices`. */
  static open(databaseFile: string, keyFile: string, options: OpenOptions = {}): TokenStore {
    const clock = options.clock ?? systemClock;
    // The 0700 directory keeps other users away from the database, its -wal and -shm.
    ensurePrivateDir(dirname(databaseFile));
    const notices: string[] = [];
    // A second round only after the first moved a store with a lost key aside.
    for (let fresh = false; ; fresh = true) {
      const db = openReadable(databaseFile, notices, clock);
      try {
        migrate(db, databaseFile);
        const opened = openKey(db, databaseFile, keyFile, options, notices);
        if (opened.kind === 'ok')
          return new TokenStore(db, opened.key, databaseFile, opened.location, clock, notices);
        if (fresh)
          throw new UnsafeStateError({
            problem: `cannot start a new token store: ${opened.reason}`,
            remedy: `move ${databaseFile} aside, then sign in again`,
          });
        db.close();
        const aside = moveAside(databaseFile, 'unreadable', clock);
        notices.push(
          `the token store ${databaseFile} could not be opened (${opened.reason}); it was moved to ${aside} and a new one started: sign in again (keep the old file if you can restore its key)`,
        );
        log.error(notices[notices.length - 1] as string);
      } catch (error) {
        db.close();
        throw error;
      }
    }
  }

  load(name: string): StoredProfile | undefined {
    const row = this.db.prepare('SELECT * FROM profiles WHERE name = ?').get(name) as Row | undefined;
    if (!row) return undefined;
    const api = row.refresh_api;
    const stored: StoredProfile = {
      identity: row.identity,
      needsSignIn: row.needs_sign_in !== 0,
      ...(api === 'GetTokensFromRefreshToken' || api === 'REFRESH_TOKEN_AUTH' ? { refreshApi: api } : {}),
    };
    if (!row.id_token || !row.access_token) return stored;
    const open = (field: string, sealed: Buffer) => unseal(this.key, name, field, sealed);
    try {
      stored.tokens = {
        idToken: open('id_token', row.id_token),
        accessToken: open('access_token', row.access_token),
        idExpiresAt: row.id_expires_at ?? 0,
        accessExpiresAt: row.access_expires_at ?? 0,
        issuedAt: row.issued_at ?? 0,
        ...(row.signed_in_at !== null ? { signedInAt: row.signed_in_at } : {}),
        ...(row.refresh_token ? { refreshToken: open('refresh_token', row.refresh_token) } : {}),
        ...(row.username !== null ? { username: row.username } : {}),
      };
    } catch (error) {
      throw new UnsafeStateError(
        {
          problem: `stored tokens for profile ${name} do not open with the key file (${messageOf(error)})`,
          remedy: `run cog-token logout ${name}, then sign in again`,
        },
        { cause: error },
      );
    }
    return stored;
  }

  /** Writes all of a profile's tokens in one statement; the refresh API that worked stays, and so does
   * when get last warned of the refresh token's expiry. */
  save(name: string, identity: string, tokens: Tokens): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO profiles (name, identity, username, id_token, access_token, refresh_token,
           id_expires_at, access_expires_at, issued_at, needs_sign_in, updated_at, refresh_api,
           signed_in_at, expiry_warned_at)
         VALUES (@name, @identity, @username, @id, @access, @refresh, @idExp, @accessExp, @iat, 0, @now,
           (SELECT refresh_api FROM profiles WHERE name = @name), @signedIn,
           (SELECT expiry_warned_at FROM profiles WHERE name = @name))`,
      )
      .run({
        name,
        identity,
        username: tokens.username ?? null,
        id: seal(this.key, name, 'id_token', tokens.idToken),
        access: seal(this.key, name, 'access_token', tokens.accessToken),
        refresh: tokens.refreshToken ? seal(this.key, name, 'refresh_token', tokens.refreshToken) : null,
        idExp: tokens.idExpiresAt,
        accessExp: tokens.accessExpiresAt,
        iat: tokens.issuedAt,
        signedIn: tokens.signedInAt ?? null,
        now: this.clock.now(),
      });
  }

  /** When get last warned that the profile's refresh token expires soon (epoch seconds). */
  expiryWarnedAt(name: string): number | undefined {
    const at = this.db.prepare('SELECT expiry_warned_at FROM profiles WHERE name = ?').pluck().get(name);
    return typeof at === 'number' ? at : undefined;
  }

  setExpiryWarnedAt(name: string, at: number): void {
    this.db.prepare('UPDATE profiles SET expiry_warned_at = ? WHERE name = ?').run(at, name);
  }

  /** Cognito refused the refresh token: forget it, keep the row so status can say why. */
  markNeedsSignIn(name: string): void {
    this.db
      .prepare('UPDATE profiles SET needs_sign_in = 1, refresh_token = NULL, updated_at = ? WHERE name = ?')
      .run(this.clock.now(), name);
  }

  setRefreshApi(name: string, api: RefreshApi): void {
    this.db.prepare('UPDATE profiles SET refresh_api = ? WHERE name = ?').run(api, name);
  }

  delete(name: string): void {
    this.db.prepare('DELETE FROM profiles WHERE name = ?').run(name);
  }

  /** The remembered device of a profile, if it still belongs to the same pool, client and user. */
  loadDevice(name: string, identity: string): DeviceRecord | undefined {
    const row = this.db.prepare('SELECT * FROM devices WHERE profile = ?').get(name) as
      | { identity: string; device_key: string; device_group_key: string; device_password: Buffer }
      | undefined;
    if (!row || row.identity !== identity) return undefined;
    try {
      return {
        deviceKey: row.device_key,
        deviceGroupKey: row.device_group_key,
        devicePassword: unseal(this.key, name, 'device_password', row.device_password),
      };
    } catch (error) {
      // Neither `devices` nor a sign-in gets past a device that does not open (both load it first).
      throw new UnsafeStateError(
        {
          problem: `the remembered device of profile ${name} does not open with the key file (${messageOf(error)})`,
          remedy: `move ${this.file} aside and sign in again`,
        },
        { cause: error },
      );
    }
  }

  saveDevice(name: string, identity: string, device: DeviceRecord): void {
    this.db
      .prepare(
        // Every column is given: replacing the row is updating it.
        `INSERT OR REPLACE INTO devices (profile, identity, device_key, device_group_key, device_password,
                                         created_at) VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        name,
        identity,
        device.deviceKey,
        device.deviceGroupKey,
        seal(this.key, name, 'device_password', device.devicePassword),
        this.clock.now(),
      );
  }

  deleteDevice(name: string): void {
    this.db.prepare('DELETE FROM devices WHERE profile = ?').run(name);
  }

  /** The profile's IdentityId and credentials, if they belong to `identity` (the profile and its pool). */
  loadAwsCredentials(name: string, identity: string): StoredAwsCredentials | undefined {
    const row = this.db.prepare('SELECT * FROM aws_credentials WHERE profile = ?').get(name) as
      | {
          identity: string;
          identity_id: string;
          access_key_id: Buffer | null;
          secret_access_key: Buffer | null;
          session_token: Buffer | null;
          issued_at: number | null;
          expires_at: number | null;
        }
      | undefined;
    if (!row || row.identity !== identity) return undefined;
    const stored: StoredAwsCredentials = { identityId: row.identity_id };
    if (!row.access_key_id || !row.secret_access_key || !row.session_token) return stored;
    try {
      const open = (field: string, sealed: Buffer) => unseal(this.key, name, field, sealed);
      stored.credentials = {
        accessKeyId: open('access_key_id', row.access_key_id),
        secretAccessKey: open('secret_access_key', row.secret_access_key),
        sessionToken: open('session_token', row.session_token),
        issuedAt: row.issued_at ?? 0,
        expiresAt: row.expires_at ?? 0,
      };
    } catch (error) {
      throw new UnsafeStateError(
        {
          problem: `stored AWS credentials for profile ${name} do not open with the key file (${messageOf(error)})`,
          remedy: `run cog-token logout ${name}, then sign in again`,
        },
        { cause: error },
      );
    }
    return stored;
  }

  /** When the profile's stored AWS credentials expire (epoch seconds), read without opening them. */
  awsCredentialsExpiry(name: string, identity: string): number | undefined {
    const row = this.db
      .prepare(
        'SELECT identity, expires_at FROM aws_credentials WHERE profile = ? AND session_token IS NOT NULL',
      )
      .get(name) as { identity: string; expires_at: number | null } | undefined;
    return row && row.identity === identity && row.expires_at !== null ? row.expires_at : undefined;
  }

  /** Writes the IdentityId and (when given) the credentials in one statement; without them, none are kept. */
  saveAwsCredentials(name: string, identity: string, stored: StoredAwsCredentials): void {
    const c = stored.credentials;
    this.db
      .prepare(
        `INSERT OR REPLACE INTO aws_credentials (profile, identity, identity_id, access_key_id,
           secret_access_key, session_token, issued_at, expires_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        name,
        identity,
        stored.identityId,
        c ? seal(this.key, name, 'access_key_id', c.accessKeyId) : null,
        c ? seal(this.key, name, 'secret_access_key', c.secretAccessKey) : null,
        c ? seal(this.key, name, 'session_token', c.sessionToken) : null,
        c ? c.issuedAt : null,
        c ? c.expiresAt : null,
        this.clock.now(),
      );
  }

  deleteAwsCredentials(name: string): void {
    this.db.prepare('DELETE FROM aws_credentials WHERE profile = ?').run(name);
  }

  names(): string[] {
    return this.db.prepare('SELECT name FROM profiles ORDER BY name').pluck().all() as string[];
  }

  close(): void {
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // Closing matters more than the checkpoint.
    }
    this.db.close();
  }
}

function migrate(db: Database.Database, file: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > schemaVersion) {
    throw new UnsafeStateError({
      problem: `${file} has schema version ${current}, newer than this cog-token understands (${schemaVersion})`,
      remedy: 'upgrade cog-token (or move the file aside and sign in again)',
    });
  }
  if (current < schemaVersion && current > 0)
    log.info(`${file}: migrating schema ${current} to ${schemaVersion}`);
  for (let v = current; v < schemaVersion; v++) {
    const step = migrations[v] as string;
    db.transaction(() => {
      db.exec(step);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** Opens the database in WAL mode and checks its structure; closes it again when that fails. */
function openChecked(file: string): Database.Database {
  // An empty 0600 file first, if none is there: SQLite gives -wal and -shm the database file's mode.
  closeSync(openSync(file, 'a', 0o600));
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok')
      throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Renames the database (and its -wal and -shm) to `<file>.<why>-<timestamp>`; returns the new name. */
function moveAside(file: string, why: string, clock: Clock): string {
  const aside = `${file}.${why}-${stampOf(clock)}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
  }
  return aside;
}

const damageCodes = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_CORRUPT_VTAB', 'SQLITE_FORMAT']);

function stampOf(clock: Clock): string {
  return new Date(clock.now()).toISOString().replace(/[:.]/g, '-');
}

/**
 * A database that SQLite cannot read is moved aside and a new one created in its place; anything else (busy,
 * permissions, disk full) is thrown as it is.
 */
function openReadable(file: string, notices: string[], clock: Clock): Database.Database {
  try {
    return openChecked(file);
  } catch (error) {
    const code = String((error as { code?: unknown }).code ?? '');
    if (!damageCodes.has(code)) throw error;
    const aside = moveAside(file, 'damaged', clock);
    const notice = `the token store ${file} was damaged (${messageOf(error)}); it was moved to ${aside} and a new one started: sign in again`;
    log.error(notice);
    notices.push(notice);
    return openChecked(file);
  }
}

function getMeta(db: Database.Database, key: string): string | undefined {
  return db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
}

function setMeta(db: Database.Database, key: string, value: string): void {
  db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);
}

/** [table, its profile column, a sealed column]: where sealed values live. */
const sealedColumns = [
  ['profiles', 'name', 'id_token'],
  ['profiles', 'name', 'refresh_token'],
  ['devices', 'profile', 'device_password'],
  ['aws_credentials', 'profile', 'secret_access_key'],
] as const;

/** One sealed value, to test a key against when the store predates key checks. */
function someSealedValue(
  db: Database.Database,
): { profile: string; field: string; value: Buffer } | undefined {
  for (const [table, owner, field] of sealedColumns) {
    const row = db
      .prepare(
        `SELECT ${owner} AS profile, ${field} AS value FROM ${table} WHERE ${field} IS NOT NULL LIMIT 1`,
      )
      .get() as { profile: string; value: Buffer } | undefined;
    if (row) return { ...row, field };
  }
  return undefined;
}

/** Does `key` open this store? By its check value, or (older stores) by opening one sealed value. */
function keyFits(db: Database.Database, key: Buffer): boolean {
  const check = getMeta(db, 'key_check');
  if (check !== undefined) return check === keyCheck(key);
  const sample = someSealedValue(db);
  if (!sample) return true;
  try {
    unseal(key, sample.profile, sample.field, sample.value);
    return true;
  } catch {
    return false;
  }
}

type OpenedKey = { kind: 'ok'; key: Buffer; location: string } | { kind: 'lost'; reason: string };

/** Finds (or, for a store with nothing sealed yet, makes) the key, and proves it fits the data. */
function openKey(
  db: Database.Database,
  databaseFile: string,
  keyFile: string,
  options: OpenOptions,
  notices: string[],
): OpenedKey {
  const recorded = getMeta(db, 'key_source') as KeySource | undefined;
  const hasData = someSealedValue(db) !== undefined || getMeta(db, 'key_check') !== undefined;
  const keyring = options.keyring;
  const wanted = options.keyStore ?? 'auto';
  let source: KeySource;
  if (recorded === 'file' || recorded === 'keyring') {
    source = recorded;
  } else if (readKeyFile(keyFile).kind !== 'missing' && (hasData || wanted !== 'keyring')) {
    // A key file beside a store that has no record yet (made before v3, or by a crash before its first
    // write): it is this store's key. With nothing sealed yet, an explicit keyring choice wins over it.
    source = 'file';
  } else if (hasData) {
    return { kind: 'lost', reason: `its key file ${keyFile} is missing` };
  } else {
    const why = keyring ? keyring.unavailable() : 'no keyring support in this build';
    if (wanted === 'keyring' && why !== undefined) {
      throw new UnsafeStateError({
        problem: `COG_TOKEN_KEY_STORE=keyring, but the OS keyring cannot be used (${why})`,
        remedy: 'unset it to use the key file',
      });
    }
    source = wanted !== 'file' && why === undefined ? 'keyring' : 'file';
  }

  // An explicit choice is honoured or refused, never silently replaced by where an existing store's key is:
  // a store never changes where its key lives.
  if (wanted !== 'auto' && wanted !== source) {
    throw new UnsafeStateError({
      problem: `COG_TOKEN_KEY_STORE=${wanted}, but the key of ${databaseFile} is in the ${source === 'file' ? `key file ${keyFile}` : 'OS keyring'} and a store never moves its key`,
      remedy: `unset COG_TOKEN_KEY_STORE (or set it to ${source}), or move ${databaseFile} aside and sign in again to start a store with its key in the ${wanted === 'file' ? 'key file' : 'OS keyring'}`,
    });
  }

  let key: Buffer;
  let location: string;
  if (source === 'keyring') {
    const account = `store-key:${databaseFile}`;
    const why = keyring ? keyring.unavailable() : 'no keyring support in this build';
    if (!keyring || why !== undefined) {
      // Never make a new key here: the data is fine, this process just cannot reach its key.
      throw new UnsafeStateError({
        problem: `the key of ${databaseFile} is in the OS keyring, which cannot be used here (${why})`,
        remedy: `start cog-token where the keyring is reachable (your desktop session), or move ${databaseFile} aside and sign in again`,
      });
    }
    location = `${keyring.name} (account ${account})`;
    const found = keyring.get(account);
    if (found === undefined || found.length !== 32) {
      const reason = `its key is ${found === undefined ? 'not' : 'damaged'} in ${keyring.name}`;
      if (hasData) return { kind: 'lost', reason };
      const fresh = randomBytes(32);
      keyring.set(account, fresh);
      if (!keyring.get(account)?.equals(fresh)) {
        const remedy = 'check the keyring, or set COG_TOKEN_KEY_STORE=file to keep the key in a file';
        throw new UnsafeStateError({ problem: `${keyring.name} did not keep the store's key`, remedy });
      }
      key = fresh;
      log.info(`the store's key is kept in ${location}`);
    } else {
      key = found;
    }
  } else {
    location = `key file ${keyFile}`;
    const state = readKeyFile(keyFile);
    if (state.kind === 'damaged') {
      const aside = `${keyFile}.damaged-${stampOf(options.clock ?? systemClock)}`;
      renameSync(keyFile, aside);
      const notice = `key file ${keyFile} was damaged (${state.reason}); it was moved to ${aside}`;
      log.error(notice);
      notices.push(notice);
    }
    if (state.kind === 'ok') {
      key = state.key;
    } else if (hasData) {
      const reason =
        state.kind === 'damaged'
          ? `its key file was damaged (${state.reason})`
          : `its key file ${keyFile} is missing`;
      return { kind: 'lost', reason };
    } else {
      try {
        key = createKeyFile(keyFile);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const again = readKeyFile(keyFile);
        if (again.kind !== 'ok')
          throw new UnsafeStateError({
            where: `key file ${keyFile}`,
            problem: 'changed while being created',
            remedy: 'try again',
          });
        key = again.key;
      }
    }
  }

  if (!keyFits(db, key)) {
    return { kind: 'lost', reason: `the ${location} does not match the data (another key?)` };
  }
  db.transaction(() => {
    if (recorded !== source) setMeta(db, 'key_source', source);
    if (getMeta(db, 'key_check') === undefined) setMeta(db, 'key_check', keyCheck(key));
  })();
  return { kind: 'ok', key, location };
}
