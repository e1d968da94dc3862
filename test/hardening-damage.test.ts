/**
 * Damaged local state, against the real daemon: a corrupted database, a truncated key file, a key that does
 * not match the data, a database from an older schema and one from a newer one. Each gives a clear message
 * and a safe path: migrate, or move the damaged file aside (kept, never wiped) and ask for a sign-in. The
 * daemon never exits over it (no crash loop under a service manager).
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { schemaVersion, TokenStore } from '../src/daemon/token-store.js';
import { ExitStatus } from '../src/shared/errors.js';
import { CogEnv, type RunResult } from './support/cog.js';
import { emulatorSuite } from './support/suite.js';

const PW = 'D4maged-state!';
const pwEnv = { COG_TEST_PW: PW };
const suite = emulatorSuite({ user: { name: 'alice', password: PW } });

/** Signed in, daemon stopped: the files are at rest. */
async function signedInAtRest(): Promise<{ env: CogEnv; token: string }> {
  const env = suite.newEnv();
  env.writeConfig(
    CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
      password_command: env.countingCommand('pw', '$COG_TEST_PW'),
    }),
  );
  const token = good(await env.run(['get', 'dev'], { env: pwEnv }));
  expect((await env.run(['stop'])).code).toBe(0);
  await env.killDaemon('SIGTERM');
  return { env, token };
}

function good(r: RunResult): string {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
  return r.stdout.trim();
}

function besides(file: string, marker: string): string[] {
  const base = file.split('/').pop() as string;
  return readdirSync(dirname(file))
    .filter((f) => f.startsWith(`${base}.${marker}-`) && !f.endsWith('-wal') && !f.endsWith('-shm'))
    .map((f) => join(dirname(file), f));
}

describe('damaged state', () => {
  it('a corrupted database is moved aside, kept byte for byte, and a sign-in starts a new one', async () => {
    const { env } = await signedInAtRest();
    const garbage = Buffer.from(
      'this is not an SQLite database, it was overwritten by something else\n'.repeat(100),
    );
    writeFileSync(env.databaseFile, garbage);
    for (const s of ['-wal', '-shm'])
      if (existsSync(env.databaseFile + s)) truncateSync(env.databaseFile + s, 0);
    const r = await env.run(['get', 'dev'], { env: pwEnv });
    good(r);
    expect(env.runs('pw')).toBe(2);
    expect(r.stderr).toMatch(
      /warning: the token store .*tokens\.db was damaged .*moved to .*tokens\.db\.damaged-.*sign in again/,
    );
    const [aside] = besides(env.databaseFile, 'damaged');
    expect(aside).toBeDefined();
    expect(readFileSync(aside as string).equals(garbage)).toBe(true);
    // Told once per profile; the new store is whole.
    expect((await env.run(['get', 'dev'])).stderr).toBe('');
    const status = JSON.parse((await env.run(['status', '--json'])).stdout);
    expect(status.notices).toEqual([expect.stringMatching(/was damaged/)]);
    // The human status says it too.
    expect((await env.run(['status'])).stdout).toMatch(/^store: .*token store .*was damaged/m);
  });

  it('a truncated key file: key and data moved aside (never replaced in place), then a sign-in', async () => {
    const { env } = await signedInAtRest();
    const key = readFileSync(env.keyFile);
    truncateSync(env.keyFile, 10);
    const r = await env.run(['get', 'dev', '--no-input']);
    // The sign-in fails (--no-input runs password_command, which has no password here): the error itself
    // says what happened to the store.
    expect(r.code).toBe(ExitStatus.commandFailed);
    expect(r.stderr).toMatch(/key file .*store\.key was damaged \(10 bytes, expected 32\); it was moved to /);
    expect(r.stderr).toMatch(/tokens\.db could not be opened .*moved to .*tokens\.db\.unreadable-/);
    const [keyAside] = besides(env.keyFile, 'damaged');
    expect(readFileSync(keyAside as string).equals(key.subarray(0, 10))).toBe(true);
    expect(besides(env.databaseFile, 'unreadable')).toHaveLength(1);
    good(await env.run(['get', 'dev'], { env: pwEnv }));
    expect(env.runs('pw')).toBe(3);
    expect(readFileSync(env.keyFile)).toHaveLength(32);
  });

  it('a key that does not match the data: the data is moved aside whole, and still opens with the right key', async () => {
    const { env, token } = await signedInAtRest();
    const rightKey = `${env.root}/right.key`;
    copyFileSync(env.keyFile, rightKey);
    writeFileSync(env.keyFile, Buffer.alloc(32, 7), { mode: 0o600 });
    const r = await env.run(['get', 'dev'], { env: pwEnv });
    expect(good(r)).not.toBe(token);
    expect(r.stderr).toMatch(/could not be opened \(the key file .* does not match the data/);
    expect(env.runs('pw')).toBe(2);
    const [aside] = besides(env.databaseFile, 'unreadable');
    // Nothing was wiped: the moved store opens with the key it was made with.
    const store = TokenStore.open(aside as string, rightKey);
    expect(store.load('dev')?.tokens?.idToken).toBe(token);
    store.close();
  });

  it('a database from an older schema (v1) is migrated, and its tokens serve with no sign-in', async () => {
    const { env, token } = await signedInAtRest();
    // Rebuild the store as the first release wrote it: only the v1 profiles table, no meta.
    const current = new Database(env.databaseFile);
    const row = current.prepare('SELECT * FROM profiles').get() as Record<string, unknown>;
    current.close();
    for (const s of ['', '-wal', '-shm'])
      if (existsSync(env.databaseFile + s)) truncateSync(env.databaseFile + s, 0);
    const old = new Database(env.databaseFile);
    old.exec(`CREATE TABLE profiles (name TEXT PRIMARY KEY, identity TEXT NOT NULL, username TEXT,
      id_token BLOB, access_token BLOB, refresh_token BLOB, id_expires_at INTEGER, access_expires_at INTEGER,
      issued_at INTEGER, needs_sign_in INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL) STRICT`);
    const { refresh_api: _v2, signed_in_at: _v4, expiry_warned_at: _v4warned, ...v1 } = row;
    old
      .prepare(
        `INSERT INTO profiles (${Object.keys(v1).join(', ')}) VALUES (${Object.keys(v1)
          .map((k) => `@${k}`)
          .join(', ')})`,
      )
      .run(v1);
    old.pragma('user_version = 1');
    old.close();
    const r = await env.run(['get', 'dev', '--no-input']);
    expect(good(r)).toBe(token);
    expect(r.stderr).toBe('');
    expect(env.runs('pw')).toBe(1);
    const db = new Database(env.databaseFile);
    expect(db.pragma('user_version', { simple: true })).toBe(schemaVersion);
    db.close();
  });

  it('a database from a newer cog-token is refused and left untouched; the daemon stays up and serves once it is back', async () => {
    const { env, token } = await signedInAtRest();
    const db = new Database(env.databaseFile);
    db.pragma(`user_version = ${schemaVersion + 5}`);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const before = readFileSync(env.databaseFile);
    const first = await env.run(['get', 'dev', '--no-input']);
    expect(first.code).toBe(ExitStatus.unsafeState);
    expect(first.stdout).toBe('');
    expect(first.stderr).toMatch(
      /tokens\.db has schema version \d+, newer than this cog-token understands.*upgrade cog-token/,
    );
    const [pid] = await env.daemonPids();
    expect((await env.run(['get', 'dev', '--no-input'])).code).toBe(ExitStatus.unsafeState);
    expect(await env.daemonPids()).toEqual([pid]);
    expect(readFileSync(env.databaseFile).equals(before)).toBe(true);
    const status = JSON.parse((await env.run(['status', '--json'])).stdout);
    expect(status.storeError).toMatch(/newer than this cog-token/);
    expect((await env.run(['status'])).stdout).toMatch(/^store: error: .*newer than this cog-token/m);
    // Put back (as after an upgrade): the same daemon opens it on the next request.
    const back = new Database(env.databaseFile);
    back.pragma(`user_version = ${schemaVersion}`);
    back.close();
    expect(good(await env.run(['get', 'dev', '--no-input']))).toBe(token);
    expect(await env.daemonPids()).toEqual([pid]);
  });
});
