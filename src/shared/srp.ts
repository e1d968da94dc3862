/**
 * Client side of Amazon Cognito's SRP-6a variant (USER_SRP_AUTH / PASSWORD_VERIFIER and
 * DEVICE_SRP_AUTH / DEVICE_PASSWORD_VERIFIER), plus SECRET_HASH and the ConfirmDevice verifier.
 *
 * Pure functions on BigInt and node:crypto; nothing runs at import time except computing the constants.
 * The formulas follow the project notes cognito-protocol.md, sections 1-3 (and the public implementations it
 * cites: amazon-cognito-identity-js, amplify-js v6, pycognito, alexrudd/cognito-srp):
 *
 *   H        = SHA-256; bytes(v) = the bytes of padHex(v)
 *   k        = H(bytes(N) ‖ bytes(g))
 *   A        = g^a mod N                                   (a = 128 random bytes)
 *   u        = H(bytes(A) ‖ bytes(B))
 *   x        = H(bytes(salt) ‖ hexSHA256(poolName ‖ userId ‖ ":" ‖ password))
 *   S        = ((B − k·g^x) mod N)^(a + u·x) mod N
 *   key      = HKDF-SHA256(salt = bytes(u), ikm = bytes(S), info = "Caldera Derived Key")[0..16)
 *   claim    = HMAC-SHA256(key, poolName ‖ userId ‖ base64decode(SECRET_BLOCK) ‖ TIMESTAMP)
 *
 * For devices, poolName := DeviceGroupKey, userId := DeviceKey and password := the device password.
 * The server side (for the test double) lives in test/support/srp-server.ts and reuses computeX, computeU
 * and deriveKey from here, so each formula is written once.
 *
 * Wire encodings: SRP_A is sent as `A.toString(16)` (plain lowercase hex, not padded); SRP_B and SALT are
 * received as hex and parsed with {@link hexToBigInt}.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';

// ---------------------------------------------------------------------------------------------------------
// Group parameters
// ---------------------------------------------------------------------------------------------------------

/** The 3072-bit MODP prime of RFC 3526 section 4 (Cognito's `initN`). */
export const N: bigint = BigInt(
  '0x' +
    'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD' +
    'EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
    'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F' +
    '83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
    'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510' +
    '15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
    'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C' +
    'BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF',
);

/** The generator. */
export const g = 2n;

// ---------------------------------------------------------------------------------------------------------
// Encoding helpers
// ---------------------------------------------------------------------------------------------------------

/**
 * Hex encoding of a non-negative integer as Java's `BigInteger.toByteArray()` would give it: even length,
 * with a leading `00` byte when the top bit of the first byte is set (so the value reads as positive).
 * Examples: 0 → '00', 0x7f → '7f', 0x80 → '0080', 0xabc → '0abc', 0x8000 → '008000'.
 *
 * Every SRP value is reduced into [0, N) before it is encoded, so negative input is a bug: it throws
 * (the references would emit a two's-complement encoding instead).
 */
export function padHex(value: bigint): string {
  if (value < 0n) throw new RangeError('padHex: negative values are not SRP values');
  const hex = value.toString(16);
  if (hex.length % 2 === 1) return `0${hex}`;
  return /^[89a-f]/.test(hex) ? `00${hex}` : hex;
}

/** The bytes of {@link padHex}(value). */
function padBytes(value: bigint): Buffer {
  return Buffer.from(padHex(value), 'hex');
}

/**
 * Parses a hex string as sent by Cognito (SRP_B, SALT) into a non-negative integer. Strict: only hex digits,
 * at least one (BigInt() alone would accept whitespace, signs and the empty string).
 */
export function hexToBigInt(hex: string): bigint {
  if (!/^[0-9a-fA-F]+$/.test(hex)) throw new SyntaxError('not a hex string');
  return BigInt(`0x${hex}`);
}

/** Big-endian unsigned integer from bytes (empty → 0). */
export function bufferToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function sha256(data: Buffer | string): Buffer {
  return createHash('sha256').update(data).digest();
}

function hmacSha256(key: Buffer | string, data: Buffer | string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** Strict-enough base64 decoding: Buffer.from(_, 'base64') silently skips characters outside the alphabet. */
function decodeBase64(value: string, what: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new SyntaxError(`${what} is not base64`);
  return Buffer.from(value, 'base64');
}

// ---------------------------------------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------------------------------------

/** value mod m in [0, m), also for negative value (JavaScript's % keeps the sign of the dividend). */
function reduce(value: bigint, m: bigint): bigint {
  const r = value % m;
  return r < 0n ? r + m : r;
}

/**
 * base^exp mod `mod`, for exp ≥ 0 and mod ≥ 1. A negative base is reduced into [0, mod) first.
 * Fixed 4-bit window: about 1.25 multiplications per exponent bit. Not constant-time (neither are the
 * reference implementations); fine for a client whose secrets live in its own process.
 */
export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  if (mod < 1n) throw new RangeError('modPow: modulus must be positive');
  if (exp < 0n) throw new RangeError('modPow: exponent must be non-negative');
  if (mod === 1n) return 0n;
  const b = reduce(base, mod);
  const table: bigint[] = [1n, b];
  for (let i = 2; i < 16; i++) table.push(((table[i - 1] as bigint) * b) % mod);
  let result = 1n;
  for (const digit of exp.toString(16)) {
    result = (result * result) % mod;
    result = (result * result) % mod;
    result = (result * result) % mod;
    result = (result * result) % mod;
    const d = Number.parseInt(digit, 16);
    if (d !== 0) result = (result * (table[d] as bigint)) % mod;
  }
  return result;
}

/** k = H(bytes(N) ‖ bytes(g)), the SRP-6a multiplier. */
export const k: bigint = bufferToBigInt(sha256(Buffer.concat([padBytes(N), padBytes(g)])));

function randomPositive(bytes: number): bigint {
  for (;;) {
    const value = bufferToBigInt(randomBytes(bytes));
    if (value !== 0n) return value;
  }
}

// ---------------------------------------------------------------------------------------------------------
// SRP (shared by client and server sides)
// ---------------------------------------------------------------------------------------------------------

/** u = H(bytes(A) ‖ bytes(B)) as an integer. A and B are hashed as given (not reduced mod N). */
export function computeU(A: bigint, B: bigint): bigint {
  return bufferToBigInt(sha256(Buffer.concat([padBytes(A), padBytes(B)])));
}

/**
 * x = H(bytes(salt) ‖ SHA256(utf8(poolName ‖ userId ‖ ":" ‖ password))), the private key the verifier g^x is
 * made from. (The references append the inner digest as a hex string to padHex(salt) and hash the decoded
 * hex: the same bytes, since the digest is always 32 bytes.)
 *
 * For users: poolName = the pool ID after '_' ({@link poolNameOf}), userId = USER_ID_FOR_SRP.
 * For devices: poolName = DeviceGroupKey, userId = DeviceKey, password = the device password.
 */
export function computeX(args: { salt: bigint; poolName: string; userId: string; password: string }): bigint {
  const inner = sha256(`${args.poolName}${args.userId}:${args.password}`);
  return bufferToBigInt(sha256(Buffer.concat([padBytes(args.salt), inner])));
}

/** The verifier v = g^x mod N that the server stores (user password or device password). */
export function computeVerifier(x: bigint): bigint {
  return modPow(g, x, N);
}

/**
 * HKDF-SHA256 (RFC 5869) with salt = bytes(u), IKM = bytes(S), info = "Caldera Derived Key", one block,
 * truncated to 16 bytes. u enters as the padded *integer* (as amplify-js v6, identity-js 6.x, pycognito
 * and cognito-srp do); see test/srp.test.ts for the rare u where the archived identity-js differed.
 */
export function deriveKey(S: bigint, u: bigint): Buffer {
  const prk = hmacSha256(padBytes(u), padBytes(S));
  const t1 = hmacSha256(prk, Buffer.concat([Buffer.from('Caldera Derived Key', 'utf8'), Buffer.from([1])]));
  return t1.subarray(0, 16);
}

// ---------------------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------------------

export interface SrpClientKeys {
  /** Private ephemeral value; never leaves the process. */
  a: bigint;
  /** Public ephemeral value g^a mod N; send as SRP_A = A.toString(16). */
  A: bigint;
}

/**
 * A fresh ephemeral key pair: a = 128 random bytes, A = g^a mod N (regenerated in the impossible case
 * A mod N = 0). A given `randomA` (tests, published vectors) must be positive and is used as is.
 */
export function generateClientKeys(randomA?: bigint): SrpClientKeys {
  if (randomA !== undefined) {
    if (randomA <= 0n) throw new RangeError('a must be positive');
    const A = modPow(g, randomA, N);
    if (A % N === 0n) throw new RangeError('A mod N is 0');
    return { a: randomA, A };
  }
  for (;;) {
    const a = randomPositive(128);
    const A = modPow(g, a, N);
    if (A % N !== 0n) return { a, A };
  }
}

/**
 * The 16-byte key for PASSWORD_CLAIM_SIGNATURE, from the client's (a, A) and the server's SRP_B and SALT.
 * Throws if B mod N = 0 or u = 0 (a malicious or broken server), or if B or salt are negative.
 */
export function passwordAuthenticationKey(args: {
  poolName: string;
  userId: string;
  password: string;
  a: bigint;
  A: bigint;
  B: bigint;
  salt: bigint;
}): Buffer {
  const { a, A, B } = args;
  if (B < 0n || args.salt < 0n) throw new RangeError('B and salt must be non-negative');
  if (B % N === 0n) throw new Error('SRP: B mod N is 0');
  const u = computeU(A, B);
  if (u === 0n) throw new Error('SRP: u is 0');
  const x = computeX(args);
  const base = reduce(B - k * computeVerifier(x), N);
  const S = modPow(base, a + u * x, N);
  return deriveKey(S, u);
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** TIMESTAMP in UTC, `ddd MMM D HH:mm:ss UTC YYYY` with the day not padded: `Sat Jan 1 00:00:00 UTC 2022`. */
export function formatTimestamp(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('invalid date');
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
  return `${WEEKDAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()} ${time} UTC ${date.getUTCFullYear()}`;
}

/**
 * PASSWORD_CLAIM_SIGNATURE = base64(HMAC-SHA256(key, poolName ‖ userId ‖ base64decode(secretBlock) ‖
 * timestamp)). For DEVICE_PASSWORD_VERIFIER, poolName = DeviceGroupKey and userId = DeviceKey.
 */
export function claimSignature(args: {
  key: Buffer;
  poolName: string;
  userId: string;
  secretBlock: string;
  timestamp: string;
}): string {
  const message = Buffer.concat([
    Buffer.from(args.poolName, 'utf8'),
    Buffer.from(args.userId, 'utf8'),
    decodeBase64(args.secretBlock, 'SECRET_BLOCK'),
    Buffer.from(args.timestamp, 'utf8'),
  ]);
  return hmacSha256(args.key, message).toString('base64');
}

/**
 * SECRET_HASH = base64(HMAC-SHA256(key = clientSecret, username ‖ clientId)). Hash exactly the USERNAME sent
 * in the same request (after the first challenge: the USERNAME / USER_ID_FOR_SRP Cognito returned).
 */
export function secretHash(username: string, clientId: string, clientSecret: string): string {
  return hmacSha256(clientSecret, `${username}${clientId}`).toString('base64');
}

/** The pool name used in x and the claim: the part of the pool ID after '_' (`eu-west-1_myPool` → `myPool`). */
export function poolNameOf(userPoolId: string): string {
  const match = /^[\w-]+_([0-9A-Za-z]+)$/.exec(userPoolId);
  if (!match?.[1]) throw new SyntaxError(`not a user pool ID: ${JSON.stringify(userPoolId)}`);
  return match[1];
}

// ---------------------------------------------------------------------------------------------------------
// Devices
// ---------------------------------------------------------------------------------------------------------

/** ConfirmDevice's DeviceSecretVerifierConfig. */
export interface DeviceVerifier {
  /** base64(bytes(padHex(g^x mod N))) */
  passwordVerifier: string;
  /** base64(bytes(padHex(salt))) */
  salt: string;
}

/** A new device password: base64 of 40 random bytes. Store it with DeviceKey and DeviceGroupKey, per user. */
export function randomDevicePassword(): string {
  return randomBytes(40).toString('base64');
}

/**
 * The verifier and salt to send with ConfirmDevice for a new device password. The salt is 16 random bytes
 * (`randomSalt` for tests) read as an integer, so leading zero bytes drop out of its encoding, as in the
 * references.
 */
export function deviceVerifier(args: {
  deviceGroupKey: string;
  deviceKey: string;
  devicePassword: string;
  randomSalt?: Buffer;
}): DeviceVerifier {
  const saltBytes = args.randomSalt ?? randomBytes(16);
  const salt = bufferToBigInt(saltBytes);
  const x = computeX({
    salt,
    poolName: args.deviceGroupKey,
    userId: args.deviceKey,
    password: args.devicePassword,
  });
  return {
    passwordVerifier: padBytes(computeVerifier(x)).toString('base64'),
    salt: padBytes(salt).toString('base64'),
  };
}
