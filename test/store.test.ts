/** The encrypted store on a real SQLite file: sealing, key-file safety, schema versions. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeyFile, readKeyFile, seal, unseal } from '../src/daemon/key-file.js';
import { schemaVersion, TokenStore } from '../src/daemon/token-store.js';

const dirs: string[] = [];
function tmp(): string {
  const dir = mkdtempSync('/tmp/cogt-store-');
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const tokens = {
  idToken: 'id.SECRET-ID-TOKEN.sig',
  accessToken: 'access.SECRET-ACCESS-TOKEN.sig',
  refreshToken: 'SECRET-REFRESH-TOKEN',
  idExpiresAt: 2_000_000_000,
  accessExpiresAt: 2_000_000_100,
  issuedAt: 1_999_996_400,
  username: 'alice',
};

describe('sealing', () => {
  it('round-trips, with a fresh nonce each time, and is bound to its profile and field', () => {
    const key = createKeyFile(join(tmp(), 'state', 'store.key'));
    const a = seal(key, 'dev', 'id_token', 'secret');
    const b = seal(key, 'dev', 'id_token', 'secret');
    expect(a.equals(b)).toBe(false);
    expect(unseal(key, 'dev', 'id_token', a)).toBe('secret');
    expect(() => unseal(key, 'prod', 'id_token', a)).toThrow();
    expect(() => unseal(key, 'dev', 'refresh_token', a)).toThrow();
    const altered = Buffer.from(a);
    altered[altered.length - 1] = (altered[altered.length - 1] ?? 0) ^ 1;
    expect(() => unseal(key, 'dev', 'id_token', altered)).toThrow();
    expect(() => unseal(Buffer.alloc(32, 7), 'dev', 'id_token', a)).toThrow();
  });
});

describe('key file', () => {
  it('is created 0600 in a 0700 directory, 32 bytes, and read back unchanged', () => {
    const file = join(tmp(), 'state', 'store.key');
    const key = createKeyFile(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(file, '..')).mode & 0o777).toBe(0o700);
    expect(readFileSync(file)).toHaveLength(32);
    expect(readKeyFile(file)).toEqual({ kind: 'ok', key });
  });

  it('refuses a key file or directory that others can read, naming the chmod that fixes it', () => {
    const dir = join(tmp(), 'state');
    const file = join(dir, 'store.key');
    createKeyFile(file);
    chmodSync(file, 0o644);
    expect(() => readKeyFile(file)).toThrow(new RegExp(`chmod 600 ${file}`));
    chmodSync(file, 0o600);
    chmodSync(dir, 0o755);
    expect(() => readKeyFile(file)).toThrow(new RegExp(`chmod 700 ${dir}`));
  });

  it('a truncated key file is damaged, never replaced by a new key', () => {
    const file = join(tmp(), 'state', 'store.key');
    createKeyFile(file);
    truncateSync(file, 10);
    expect(readKeyFile(file)).toEqual({ kind: 'damaged', reason: '10 bytes, expected 32' });
    expect(() => createKeyFile(file)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(readFileSync(file)).toHaveLength(10);
  });
});

describe('token store', () => {
  it('keeps only ciphertext in the database and its WAL', () => {
    const dir = tmp();
    const db = join(dir, 'data', 'tokens.db');
    const store = TokenStore.open(db, join(dir, 'state', 'store.key'));
    store.save('dev', 'identity', tokens);
    expect(store.load('dev')).toEqual({ identity: 'identity', needsSignIn: false, tokens });
    for (const suffix of ['', '-wal']) {
      const raw = readFileSync(db + suffix).toString('latin1');
      for (const secret of ['SECRET-ID-TOKEN', 'SECRET-ACCESS-TOKEN', 'SECRET-REFRESH-TOKEN']) {
        expect(raw.includes(secret)).toBe(false);
      }
    }
    store.markNeedsSignIn('dev');
    const after = store.load('dev');
    expect(after?.needsSignIn).toBe(true);
    expect(after?.tokens?.refreshToken).toBeUndefined();
    store.delete('dev');
    expect(store.load('dev')).toBeUndefined();
    store.close();
  });

  it('uses WAL and records its schema version; a newer schema is refused, not overwritten', () => {
    const dir = tmp();
    const db = join(dir, 'data', 'tokens.db');
    TokenStore.open(db, join(dir, 'state', 'store.key')).close();
    const raw = new Database(db);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(schemaVersion);
    raw.pragma(`user_version = ${schemaVersion + 1}`);
    raw.close();
    expect(() => TokenStore.open(db, join(dir, 'state', 'store.key'))).toThrow(/newer than this cog-token/);
  });

  it('migrates a database created before any schema (version 0)', () => {
    const dir = tmp();
    const db = join(dir, 'data', 'tokens.db');
    TokenStore.open(join(dir, 'data', 'other.db'), join(dir, 'state', 'store.key')).close();
    new Database(db).close();
    const store = TokenStore.open(db, join(dir, 'state', 'store.key'));
    store.save('dev', 'identity', tokens);
    expect(store.names()).toEqual(['dev']);
    store.close();
  });
});
