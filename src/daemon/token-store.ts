/**
 * The encrypted SQLite store (better-sqlite3, WAL). Secrets are sealed field by field (key-file.ts), so the
 * database, its -wal and -shm files hold only ciphertext. Schema versions live in PRAGMA user_version.
 */

import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { UnsafeStateError } from '../shared/errors.js';
import { ensurePrivateDir } from '../shared/paths.js';
import { loadOrCreateKey, seal, unseal } from './key-file.js';

export interface Tokens {
  idToken: string;
  accessToken: string;
  refreshToken?: string;
  /** Epoch seconds. */
  idExpiresAt: number;
  accessExpiresAt: number;
  issuedAt: number;
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
}

export class TokenStore {
  private constructor(
    private readonly db: Database.Database,
    private readonly key: Buffer,
    readonly file: string,
  ) {}

  static open(databaseFile: string, keyFile: string): TokenStore {
    const key = loadOrCreateKey(keyFile);
    ensurePrivateDir(dirname(databaseFile));
    const db = new Database(databaseFile);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      migrate(db, databaseFile);
    } catch (error) {
      db.close();
      throw error;
    }
    return new TokenStore(db, key, databaseFile);
  }

  load(name: string): StoredProfile | undefined {
    const row = this.db.prepare('SELECT * FROM profiles WHERE name = ?').get(name) as Row | undefined;
    if (!row) return undefined;
    const stored: StoredProfile = { identity: row.identity, needsSignIn: row.needs_sign_in !== 0 };
    if (row.refresh_api === 'GetTokensFromRefreshToken' || row.refresh_api === 'REFRESH_TOKEN_AUTH') {
      stored.refreshApi = row.refresh_api;
    }
    if (row.id_token && row.access_token) {
      try {
        const tokens: Tokens = {
          idToken: unseal(this.key, name, 'id_token', row.id_token),
          accessToken: unseal(this.key, name, 'access_token', row.access_token),
          idExpiresAt: row.id_expires_at ?? 0,
          accessExpiresAt: row.access_expires_at ?? 0,
          issuedAt: row.issued_at ?? 0,
        };
        if (row.refresh_token)
          tokens.refreshToken = unseal(this.key, name, 'refresh_token', row.refresh_token);
        if (row.username !== null) tokens.username = row.username;
        stored.tokens = tokens;
      } catch (error) {
        throw new UnsafeStateError(
          `stored tokens for profile ${name} do not open with the key file (${(error as Error).message}): run cog-token logout ${name}, then sign in again`,
          { cause: error },
        );
      }
    }
    return stored;
  }

  /** Writes all of a profile's tokens in one transaction. */
  save(name: string, identity: string, tokens: Tokens): void {
    this.db
      .prepare(
        `INSERT INTO profiles (name, identity, username, id_token, access_token, refresh_token,
                               id_expires_at, access_expires_at, issued_at, needs_sign_in, updated_at)
         VALUES (@name, @identity, @username, @id, @access, @refresh, @idExp, @accessExp, @iat, 0, @now)
         ON CONFLICT(name) DO UPDATE SET identity = excluded.identity, username = excluded.username,
           id_token = excluded.id_token, access_token = excluded.access_token,
           refresh_token = excluded.refresh_token, id_expires_at = excluded.id_expires_at,
           access_expires_at = excluded.access_expires_at, issued_at = excluded.issued_at,
           needs_sign_in = 0, updated_at = excluded.updated_at`,
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
        now: Date.now(),
      });
  }

  /** Cognito refused the refresh token: forget it, keep the row so status can say why. */
  markNeedsSignIn(name: string): void {
    this.db
      .prepare('UPDATE profiles SET needs_sign_in = 1, refresh_token = NULL, updated_at = ? WHERE name = ?')
      .run(Date.now(), name);
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
      throw new UnsafeStateError(
        `the remembered device of profile ${name} does not open with the key file (${(error as Error).message}): run cog-token devices ${name} --forget-local`,
        { cause: error },
      );
    }
  }

  saveDevice(name: string, identity: string, device: DeviceRecord): void {
    this.db
      .prepare(
        `INSERT INTO devices (profile, identity, device_key, device_group_key, device_password, created_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(profile) DO UPDATE SET identity = excluded.identity, device_key = excluded.device_key,
           device_group_key = excluded.device_group_key, device_password = excluded.device_password,
           created_at = excluded.created_at`,
      )
      .run(
        name,
        identity,
        device.deviceKey,
        device.deviceGroupKey,
        seal(this.key, name, 'device_password', device.devicePassword),
        Date.now(),
      );
  }

  deleteDevice(name: string): void {
    this.db.prepare('DELETE FROM devices WHERE profile = ?').run(name);
  }

  names(): string[] {
    return (this.db.prepare('SELECT name FROM profiles ORDER BY name').all() as { name: string }[]).map(
      (r) => r.name,
    );
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
    throw new UnsafeStateError(
      `${file} has schema version ${current}, newer than this cog-token understands (${schemaVersion}): upgrade cog-token`,
    );
  }
  for (let v = current; v < schemaVersion; v++) {
    const step = migrations[v] as string;
    db.transaction(() => {
      db.exec(step);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
