/**
 * Server side of Cognito's SRP-6a variant, for the test double that plays Cognito (test-only: the client
 * never needs it). It reuses computeX / computeU / deriveKey / claimSignature from src/shared/srp.ts, so
 * client and server share every formula except the two that differ by role:
 *
 *   B = (k·v + g^b) mod N
 *   S = (A · v^u)^b mod N         (equal to the client's ((B − k·g^x) mod N)^(a + u·x) mod N)
 *
 * where v = g^x mod N is the stored verifier. A user's verifier comes from {@link userVerifier}; a device's
 * from the DeviceSecretVerifierConfig the client sent with ConfirmDevice ({@link parseDeviceVerifier}).
 * The server sends SRP_B = B.toString(16) and SALT = salt.toString(16) in the challenge parameters.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  bufferToBigInt,
  claimSignature,
  computeU,
  computeVerifier,
  computeX,
  type DeviceVerifier,
  deriveKey,
  g,
  k,
  modPow,
  N,
} from '../../src/shared/srp.js';

/** A random positive salt of `bytes` bytes (16 by default, the size clients use for device salts). */
export function randomSalt(bytes = 16): bigint {
  for (;;) {
    const salt = bufferToBigInt(randomBytes(bytes));
    if (salt !== 0n) return salt;
  }
}

/** The verifier v = g^x mod N that a pool stores for a user's password. */
export function userVerifier(args: {
  poolName: string;
  userId: string;
  password: string;
  salt: bigint;
}): bigint {
  return computeVerifier(computeX(args));
}

/** A device's stored verifier and salt, decoded from ConfirmDevice's DeviceSecretVerifierConfig. */
export function parseDeviceVerifier(config: DeviceVerifier): { v: bigint; salt: bigint } {
  const decode = (value: string, what: string) => {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) throw new SyntaxError(`${what} is not base64`);
    return bufferToBigInt(Buffer.from(value, 'base64'));
  };
  const v = decode(config.passwordVerifier, 'PasswordVerifier');
  if (v % N === 0n || v >= N) throw new RangeError('PasswordVerifier is not in (0, N)');
  return { v, salt: decode(config.salt, 'Salt') };
}

export interface SrpServerKeys {
  /** Private ephemeral value. */
  b: bigint;
  /** Public ephemeral value (k·v + g^b) mod N; send as SRP_B = B.toString(16). */
  B: bigint;
}

/**
 * A fresh server ephemeral pair for verifier v: b = 128 random bytes unless `randomB` is given,
 * B = (k·v + g^b) mod N, regenerated if B mod N = 0.
 */
export function generateServerKeys(v: bigint, randomB?: bigint): SrpServerKeys {
  for (;;) {
    const b = randomB ?? bufferToBigInt(randomBytes(128));
    if (b <= 0n) {
      if (randomB !== undefined) throw new RangeError('b must be positive');
      continue;
    }
    const B = (k * v + modPow(g, b, N)) % N;
    if (B !== 0n) return { b, B };
    if (randomB !== undefined) throw new RangeError('B mod N is 0');
  }
}

/**
 * The server's 16-byte key for a session: S = (A · v^u)^b mod N, key = HKDF(S, u). Throws if A mod N = 0
 * (a client trying to force S = 0) or u = 0, as a server must.
 */
export function serverPasswordAuthenticationKey(args: {
  A: bigint;
  B: bigint;
  b: bigint;
  v: bigint;
}): Buffer {
  const { A, B, b, v } = args;
  if (A < 0n || A % N === 0n) throw new Error('SRP: A mod N is 0');
  const u = computeU(A, B);
  if (u === 0n) throw new Error('SRP: u is 0');
  const S = modPow((A * modPow(v, u, N)) % N, b, N);
  return deriveKey(S, u);
}

/**
 * Checks a PASSWORD_CLAIM_SIGNATURE against the server's key (constant-time comparison). poolName/userId are
 * the pool name and USER_ID_FOR_SRP, or DeviceGroupKey and DeviceKey for DEVICE_PASSWORD_VERIFIER. The
 * signature must be the exact base64 text (padded, standard alphabet). Returns false, never throws, for a
 * malformed signature or SECRET_BLOCK.
 */
export function verifyClaimSignature(args: {
  key: Buffer;
  poolName: string;
  userId: string;
  secretBlock: string;
  timestamp: string;
  signature: string;
}): boolean {
  let expected: string;
  try {
    expected = claimSignature(args);
  } catch {
    return false;
  }
  // Exact base64 text, as the client computed it; no lenient decoding of what was sent.
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(args.signature, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
