/**
 * The server half of PASSWORD_VERIFIER and DEVICE_PASSWORD_VERIFIER, on top of test/support/srp-server.ts (no
 * SRP math here): issue SALT / SRP_B / SECRET_BLOCK, then check the client's PASSWORD_CLAIM_SIGNATURE over
 * the TIMESTAMP exactly as the client sent it.
 */
import { randomBytes } from 'node:crypto';
import { formatTimestamp, hexToBigInt, N } from '../../src/shared/srp.js';
import {
  generateServerKeys,
  randomSalt,
  serverPasswordAuthenticationKey,
  userVerifier,
  verifyClaimSignature,
} from '../support/srp-server.js';
import { invalidParameter, type Json, optString } from './errors.js';

export interface SrpState {
  A: bigint;
  b: bigint;
  B: bigint;
  v: bigint;
  salt: bigint;
  secretBlock: string;
  /** The pool name, or the DeviceGroupKey for a device. */
  poolName: string;
  /** USER_ID_FOR_SRP, or the DeviceKey for a device. */
  userId: string;
}

/** SRP_A as the client sent it (plain hex). A value ≡ 0 mod N is refused, as the protocol requires. */
export function parseSrpA(hex: string): bigint {
  let A: bigint;
  try {
    A = hexToBigInt(hex);
  } catch {
    throw invalidParameter('SRP_A is not a hex number');
  }
  if (A % N === 0n) throw invalidParameter('SRP_A is not valid');
  return A;
}

/**
 * Starts SRP for a verifier: a fresh b/B and an opaque SECRET_BLOCK. The returned parameters go into the
 * challenge as SALT, SRP_B and SECRET_BLOCK (plain hex for numbers, as Cognito sends them).
 */
export function startSrp(args: { A: bigint; v: bigint; salt: bigint; poolName: string; userId: string }): {
  state: SrpState;
  params: { SALT: string; SRP_B: string; SECRET_BLOCK: string };
} {
  const { b, B } = generateServerKeys(args.v);
  const secretBlock = randomBytes(64).toString('base64');
  return {
    state: { ...args, b, B, secretBlock },
    params: { SALT: args.salt.toString(16), SRP_B: B.toString(16), SECRET_BLOCK: secretBlock },
  };
}

/**
 * For a USER_SRP_AUTH on an unknown user: a verifier for no known password, so the exchange looks normal and
 * then fails with "Incorrect username or password." (Cognito's PreventUserExistenceErrors behaviour).
 */
export function decoyVerifier(poolName: string, userId: string): { v: bigint; salt: bigint } {
  const salt = randomSalt(16);
  const password = randomBytes(32).toString('base64');
  return { v: userVerifier({ poolName, userId, password, salt }), salt };
}

/**
 * Checks PASSWORD_CLAIM_SECRET_BLOCK, TIMESTAMP and PASSWORD_CLAIM_SIGNATURE from a PASSWORD_VERIFIER or
 * DEVICE_PASSWORD_VERIFIER response. The TIMESTAMP must be in Cognito's format exactly (`Tue Jul 10 11:01:00
 * UTC 2018`, day not padded); the signature is computed over the string the client sent.
 */
export function verifySrpClaim(state: SrpState, responses: Json): boolean {
  const secretBlock = optString(responses, 'PASSWORD_CLAIM_SECRET_BLOCK');
  const timestamp = optString(responses, 'TIMESTAMP');
  const signature = optString(responses, 'PASSWORD_CLAIM_SIGNATURE');
  if (secretBlock !== state.secretBlock || timestamp === undefined || signature === undefined) return false;
  if (!isCognitoTimestamp(timestamp)) return false;
  let key: Buffer;
  try {
    key = serverPasswordAuthenticationKey({ A: state.A, B: state.B, b: state.b, v: state.v });
  } catch {
    return false;
  }
  return verifyClaimSignature({
    key,
    poolName: state.poolName,
    userId: state.userId,
    secretBlock,
    timestamp,
    signature,
  });
}

const WEEKDAY = '(Sun|Mon|Tue|Wed|Thu|Fri|Sat)';
const MONTH = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIMESTAMP = new RegExp(`^${WEEKDAY} ${MONTH} (\\d{1,2}) (\\d\\d):(\\d\\d):(\\d\\d) UTC (\\d{4})$`);

/** True when the text is a real UTC time written the way formatTimestamp writes it (round trip). */
function isCognitoTimestamp(text: string): boolean {
  const m = TIMESTAMP.exec(text);
  if (!m) return false;
  const month = MONTH.slice(1, -1)
    .split('|')
    .indexOf(m[2] ?? '');
  const date = new Date(
    Date.UTC(Number(m[7]), month, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])),
  );
  return !Number.isNaN(date.getTime()) && formatTimestamp(date) === text;
}
