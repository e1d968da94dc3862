/**
 * The store's encryption key: 32 random bytes in a 0600 file, in a 0700 directory apart from the database
 * (or in the OS keyring: keyring.ts). AES-256-GCM seals each secret with a fresh nonce and associated data
 * naming its profile and field, so a sealed value copied to another row or field does not open.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsyncSync,
  linkSync,
  openSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { UnsafeStateError } from '../shared/errors.js';
import { ensurePrivateDir } from '../system/private-directory.js';

const keyBytes = 32;
const nonceBytes = 12;
const tagBytes = 16;
const formatVersion = 1;

export type KeyFileState =
  | { kind: 'ok'; key: Buffer }
  | { kind: 'missing' }
  | { kind: 'damaged'; reason: string };

/** Where to put the key file when its directory is not one to change (shared, another user's, $HOME). */
const keyElsewhere =
  'use a directory of your own for the key, e.g. COG_TOKEN_KEY_FILE=$XDG_STATE_HOME/cog-token/store.key (or leave COG_TOKEN_KEY_FILE unset)';

/**
 * Reads the key file without ever creating or changing it. A key file others can read, or that belongs to
 * someone else, is refused (UnsafeStateError, with the chmod that fixes it); a wrong size is `damaged`.
 */
export function readKeyFile(file: string): KeyFileState {
  ensurePrivateDir(dirname(file), keyElsewhere);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw error;
  }
  try {
    const st = fstatSync(fd);
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
      throw new UnsafeStateError({
        problem: `key file ${file} belongs to another user (uid ${st.uid})`,
        remedy: 'remove it',
      });
    }
    if ((st.mode & 0o077) !== 0) {
      throw new UnsafeStateError({
        problem: `key file ${file} can be read by other users (mode ${(st.mode & 0o777).toString(8)})`,
        remedy: `run chmod 600 ${file}`,
      });
    }
    if (!st.isFile() || st.size !== keyBytes) {
      return { kind: 'damaged', reason: `${st.size} bytes, expected ${keyBytes}` };
    }
    const key = Buffer.alloc(keyBytes);
    const n = readSync(fd, key, 0, keyBytes, 0);
    if (n !== keyBytes) return { kind: 'damaged', reason: `read ${n} bytes, expected ${keyBytes}` };
    return { kind: 'ok', key };
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates the key file whole or not at all: written and synced under a temporary name, then linked into
 * place (link fails if the name exists, so a concurrent creator's key is never overwritten). A crash leaves
 * at most a stray temporary file, never an empty or short key file.
 */
export function createKeyFile(file: string, key: Buffer = randomBytes(keyBytes)): Buffer {
  ensurePrivateDir(dirname(file), keyElsewhere);
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, key);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, file);
  } finally {
    unlinkSync(temporary);
  }
  syncDir(dirname(file));
  return key;
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every platform can fsync a directory; the link is still atomic.
  }
}

/** A value stored beside the data that tells whether a key is the one the data was sealed with. */
export function keyCheck(key: Buffer): string {
  return createHmac('sha256', key).update('cog-token key check v1').digest('hex').slice(0, 32);
}

function aad(profile: string, field: string): Buffer {
  return Buffer.from(`cog-token/v${formatVersion}\0${profile}\0${field}`, 'utf8');
}

export function seal(key: Buffer, profile: string, field: string, plaintext: string): Buffer {
  const nonce = randomBytes(nonceBytes);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad(profile, field));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([formatVersion]), nonce, cipher.getAuthTag(), body]);
}

/** Opens a sealed value; throws when it was sealed with another key, for another field, or was altered. */
export function unseal(key: Buffer, profile: string, field: string, sealed: Buffer): string {
  if (sealed.length < 1 + nonceBytes + tagBytes || sealed[0] !== formatVersion) {
    throw new Error(`sealed ${field} has an unknown format`);
  }
  const nonce = sealed.subarray(1, 1 + nonceBytes);
  const tag = sealed.subarray(1 + nonceBytes, 1 + nonceBytes + tagBytes);
  const body = sealed.subarray(1 + nonceBytes + tagBytes);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(aad(profile, field));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}
