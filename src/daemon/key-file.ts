/**
 * The store's encryption key: 32 random bytes in a 0600 file, in a 0700 directory apart from the database.
 * AES-256-GCM seals each secret with a fresh nonce and associated data naming its profile and field, so a
 * sealed value copied to another row or field does not open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { UnsafeStateError } from '../shared/errors.js';
import { ensurePrivateDir } from '../shared/paths.js';

const keyBytes = 32;
const nonceBytes = 12;
const tagBytes = 16;
const formatVersion = 1;

export function loadOrCreateKey(file: string): Buffer {
  ensurePrivateDir(dirname(file));
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
    const key = randomBytes(keyBytes);
    writeSync(fd, key);
    fsyncSync(fd);
    closeSync(fd);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  fd = openSync(file, 'r');
  try {
    const st = fstatSync(fd);
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
      throw new UnsafeStateError(`key file ${file} belongs to another user (uid ${st.uid}): remove it`);
    }
    if ((st.mode & 0o077) !== 0) {
      throw new UnsafeStateError(
        `key file ${file} can be read by other users (mode ${(st.mode & 0o777).toString(8)}): run chmod 600 ${file}`,
      );
    }
    const key = Buffer.alloc(keyBytes);
    const n = readSync(fd, key, 0, keyBytes, 0);
    if (n !== keyBytes || st.size !== keyBytes) {
      throw new UnsafeStateError(
        `key file ${file} is damaged (${st.size} bytes, expected ${keyBytes}): move it aside and sign in again`,
      );
    }
    return key;
  } finally {
    closeSync(fd);
  }
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
