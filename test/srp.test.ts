import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  bufferToBigInt,
  claimSignature,
  computeU,
  computeVerifier,
  computeX,
  deriveKey,
  deviceVerifier,
  formatTimestamp,
  g,
  generateClientKeys,
  hexToBigInt,
  k,
  modPow,
  N,
  padHex,
  passwordAuthenticationKey,
  poolNameOf,
  randomDevicePassword,
  secretHash,
} from '../src/shared/srp.js';
import {
  generateServerKeys,
  parseDeviceVerifier,
  randomSalt,
  serverPasswordAuthenticationKey,
  userVerifier,
  verifyClaimSignature,
} from './support/srp-server.js';

// ---------------------------------------------------------------------------------------------------------
// The reference client, amazon-cognito-identity-js (CommonJS; its index.d.ts does not declare
// AuthenticationHelper, so the parts used here are typed locally). Its callbacks run synchronously.
// ---------------------------------------------------------------------------------------------------------

interface RefBigInteger {
  toString(radix: 16): string;
}
interface RefAuthenticationHelper {
  N: RefBigInteger;
  k: RefBigInteger;
  smallAValue: RefBigInteger;
  largeAValue: RefBigInteger | undefined;
  padHex(value: RefBigInteger): string;
  getLargeAValue(callback: (err: unknown, A: RefBigInteger) => void): void;
  getPasswordAuthenticationKey(
    username: string,
    password: string,
    B: RefBigInteger,
    salt: RefBigInteger,
    callback: (err: unknown, key: Uint8Array) => void,
  ): void;
  generateHashDevice(deviceGroupKey: string, username: string, callback: (err: unknown) => void): void;
  getRandomPassword(): string;
  getSaltDevices(): string;
  getVerifierDevices(): string;
}
interface RefModule {
  AuthenticationHelper: new (poolName: string) => RefAuthenticationHelper;
  DateHelper: new () => { getNowString(): string };
}

const ref = createRequire(import.meta.url)('amazon-cognito-identity-js') as RefModule;
const refHelper = new ref.AuthenticationHelper('probe');
const RefBigIntegerCtor = refHelper.N.constructor as new (value: string, radix: 16) => RefBigInteger;

const toRef = (value: bigint) => new RefBigIntegerCtor(value.toString(16), 16);
const fromRef = (value: RefBigInteger) => hexToBigInt(value.toString(16));

/** Runs a reference method whose callback is called synchronously, and returns the callback's value. */
function sync<T>(run: (callback: (err: unknown, value: T) => void) => void): T {
  let result: { value: T } | undefined;
  run((err, value) => {
    if (err) throw err;
    result = { value };
  });
  if (!result) throw new Error('reference callback was not called synchronously');
  return result.value;
}

/** A reference helper for `poolName` with its private a replaced by ours. */
function refHelperWithA(poolName: string, a: bigint): RefAuthenticationHelper {
  const helper = new ref.AuthenticationHelper(poolName);
  helper.smallAValue = toRef(a);
  helper.largeAValue = undefined;
  sync<RefBigInteger>((cb) => helper.getLargeAValue(cb));
  return helper;
}

function refKey(helper: RefAuthenticationHelper, userId: string, password: string, B: bigint, salt: bigint) {
  const key = sync<Uint8Array>((cb) =>
    helper.getPasswordAuthenticationKey(userId, password, toRef(B), toRef(salt), cb),
  );
  return Buffer.from(key).toString('hex');
}

const randomBelowN = () => bufferToBigInt(randomBytes(400)) % N;
const randomText = () => `${randomBytes(6).toString('base64url')}-ü-€-😀-${randomBytes(1)[0] ?? 0}`; // non-ASCII on purpose

// ---------------------------------------------------------------------------------------------------------
// Published vectors (alexrudd/cognito-srp cognitosrp_test.go, via cognito-protocol.md)
// ---------------------------------------------------------------------------------------------------------

const VECTOR = {
  poolId: 'eu-west-1_myPool',
  user: 'test',
  password: 'test',
  a: 1234567890n,
  B: hexToBigInt('499602d2'),
  salt: hexToBigInt('499602d2'),
  secretBlock: Buffer.from('secretssecrestssecrets', 'utf8').toString('base64'),
  time: new Date(Date.UTC(2018, 6, 10, 11, 1, 0)),
  timestamp: 'Tue Jul 10 11:01:00 UTC 2018',
  key: 'd96cde6c95dda17175c1293140c5a81f',
  signature: 'tdvQu/Li/qWl8Nni0aFPs+MwY4rvKZm0kSMrGIMSUHk=',
  // g^1234567890 mod N, in decimal
  A:
    '20128214501792372660674147519410609280198172873140178356672974136154416800420156488936195120745748015518169' +
    '08048875039310556108650595869145768432324376774060555385775073708569121688902158895642383219736852216366144' +
    '52915674402815145842443681079121836272926000592301897355962186917327033513310106496417743316177107446599440' +
    '12259466028234893278098696501033149187497191450763805359763250092534939726341915230790355253415983664627335' +
    '32137597586069288340594563327421244726332307232609401008335819089778907622323610696065668900966210610871808' +
    '61088422427001714985764778882204338634194727570161249416263019138961566061956165548139957372331137757779226' +
    '05811749976189561524895073252186995550952331211005465721887015639794177018652767394182786013298441763268148' +
    '13849675127887644523181751359470351143169066091784103404544366711287145804238613966547260918328728126017769' +
    '114261057445005776403447691297001659393612551419207658913838531096191',
};

describe('group parameters', () => {
  it('N is the RFC 3526 3072-bit prime and g = 2', () => {
    expect(N.toString(2)).toHaveLength(3072);
    expect(N.toString(16)).toMatch(/^ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd1/);
    expect(N.toString(16)).toMatch(/43db5bfce0fd108e4b82d120a93ad2caffffffffffffffff$/);
    expect(g).toBe(2n);
    expect(fromRef(refHelper.N)).toBe(N);
  });

  it('k = H(padHex(N) ‖ padHex(g)) matches the published value and the reference', () => {
    expect(k.toString()).toBe(
      '37772559067617796309459009502931177628717927509759535181635788491848250400486',
    );
    expect(k.toString()).toMatch(/^37772559\d+250400486$/); // the prefix/suffix quoted in cognito-protocol.md
    expect(fromRef(refHelper.k)).toBe(k);
  });
});

describe('padHex', () => {
  it.each([
    [0n, '00'],
    [1n, '01'],
    [0xfn, '0f'],
    [0x10n, '10'],
    [0x7fn, '7f'],
    [0x80n, '0080'],
    [0xffn, '00ff'],
    [0x100n, '0100'],
    [0xabcn, '0abc'],
    [0x7fffn, '7fff'],
    [0x8000n, '008000'],
    [0x123abcn, '123abc'],
    [0x123abcdn, '0123abcd'],
    [0x8123abcdn, '008123abcd'],
    [1234567890n, '499602d2'],
  ])('padHex(%s) = %s', (value, hex) => {
    expect(padHex(value)).toBe(hex);
  });

  it('pads N with 00 (top bit set)', () => {
    expect(padHex(N)).toBe(`00${N.toString(16)}`);
  });

  it('throws on negative values', () => {
    expect(() => padHex(-1n)).toThrow(RangeError);
    expect(() => padHex(-236n)).toThrow(RangeError);
  });

  it('agrees with the reference for 0..4096 and random large values', () => {
    const values: bigint[] = [];
    for (let i = 0n; i <= 4096n; i++) values.push(i);
    for (let bytes = 1; bytes <= 400; bytes += 7) values.push(bufferToBigInt(randomBytes(bytes)));
    for (const value of values) expect(padHex(value)).toBe(refHelper.padHex(toRef(value)));
  });
});

describe('hexToBigInt', () => {
  it('parses hex, lower or upper case', () => {
    expect(hexToBigInt('499602d2')).toBe(1234567890n);
    expect(hexToBigInt('499602D2')).toBe(1234567890n);
    expect(hexToBigInt('0')).toBe(0n);
  });

  it.each(['', ' 12', '12 ', '0x12', '-1', '+1', 'xyz', '12\n'])('rejects %j', (text) => {
    expect(() => hexToBigInt(text)).toThrow(SyntaxError);
  });
});

describe('modPow', () => {
  const naive = (base: bigint, exp: bigint, mod: bigint) => {
    let r = 1n % mod;
    const b = ((base % mod) + mod) % mod;
    for (let i = 0n; i < exp; i++) r = (r * b) % mod;
    return r;
  };

  it('agrees with repeated multiplication, including negative bases', () => {
    for (const mod of [1n, 2n, 7n, 1000003n, 2n ** 61n - 1n]) {
      for (const base of [0n, 1n, 2n, 3n, -5n, 123456789n, -(2n ** 70n)]) {
        for (const exp of [0n, 1n, 2n, 15n, 16n, 17n, 255n, 256n, 1000n]) {
          expect(modPow(base, exp, mod)).toBe(naive(base, exp, mod));
        }
      }
    }
  });

  it('satisfies g^(a+b) = g^a · g^b mod N for large exponents', () => {
    const a = bufferToBigInt(randomBytes(128));
    const b = bufferToBigInt(randomBytes(128));
    expect(modPow(g, a + b, N)).toBe((modPow(g, a, N) * modPow(g, b, N)) % N);
  });

  it('rejects a non-positive modulus or negative exponent', () => {
    expect(() => modPow(2n, 3n, 0n)).toThrow(RangeError);
    expect(() => modPow(2n, -1n, 7n)).toThrow(RangeError);
  });
});

describe('published SRP vectors', () => {
  it('A = g^a mod N', () => {
    expect(generateClientKeys(VECTOR.a).A.toString()).toBe(VECTOR.A);
  });

  it('u = H(padHex(A) ‖ padHex(B))', () => {
    const A = hexToBigInt('6D797365637265746861736841');
    const B = hexToBigInt('6D797365637265746861736842');
    expect(computeU(A, B).toString()).toBe(
      '39743664823761398449876968619416475559594078623923024211668626611155104513539',
    );
  });

  it('HKDF("Caldera Derived Key") of the published S and u', () => {
    const ikm =
      '00cf724779a05d41df17a315d188ce565d0bc7a70e6bc4199ad3959a531c6b4ca4b9ac31f639b96391a2f8d28c7d47d9759fc7a23a5' +
      '9bfb95691147b212b050116cf53fa1a7876ef179003dea92b246bc9584240d3e5a294a158b12cc92642bbe5c7d854338233f54fd66f' +
      '10384b3d3e740280017773feb1104696bfe6e0a82ec5ef2fc23fad663f5e945e8644c872d05f4ab7961436d0602c961d1619e91b70e' +
      '451f0769e80b0d6ae80052ed47c3c89f4caae02ff01917f195b8cbea78f895da7145646e64b63605a7ffd85de351c06a5a5ffb6eee8' +
      'b392b4d137726468361bbcf7b4055600002ae7c8c1dd5c545862f1c4c725c01da795afab3221d322104aecd4d1ab74d5e81eb45cbdb' +
      '52081b1413a9e8b08e76b961c74cdbdac017d8d22a24860a674a0cd526e8ff8403caac07c0c720636efd83291ae60ff15cbd0a881f8' +
      '030495cae0327040855defba70625c78cf27ea50bcaf0322cac01cf753c5a34269e4e329c9cd388aada7781cf1c552754a0d2d3ce5f' +
      'e58198a31b7b0ddc515ad';
    const salt = '0c98b195a479d1a7c70c99dd680f34f5805fe686d0bc716549ff2ed895aa9111';
    const S = hexToBigInt(ikm);
    const u = hexToBigInt(salt);
    expect(padHex(S)).toBe(ikm);
    expect(padHex(u)).toBe(salt);
    // These are the S and u of the full vector below.
    const { A } = generateClientKeys(VECTOR.a);
    expect(computeU(A, VECTOR.B)).toBe(u);
    expect(deriveKey(S, u).toString('hex')).toBe(VECTOR.key);
    // Same as RFC 5869 HKDF with info "Caldera Derived Key", 16 bytes.
    const hkdf = hkdfSync(
      'sha256',
      Buffer.from(ikm, 'hex'),
      Buffer.from(salt, 'hex'),
      'Caldera Derived Key',
      16,
    );
    expect(Buffer.from(hkdf).toString('hex')).toBe(VECTOR.key);
  });

  it('password authentication key, timestamp and PASSWORD_CLAIM_SIGNATURE', () => {
    const poolName = poolNameOf(VECTOR.poolId);
    expect(poolName).toBe('myPool');
    const { a, A } = generateClientKeys(VECTOR.a);
    const key = passwordAuthenticationKey({
      poolName,
      userId: VECTOR.user,
      password: VECTOR.password,
      a,
      A,
      B: VECTOR.B,
      salt: VECTOR.salt,
    });
    expect(key).toHaveLength(16);
    expect(key.toString('hex')).toBe(VECTOR.key);
    const timestamp = formatTimestamp(VECTOR.time);
    expect(timestamp).toBe(VECTOR.timestamp);
    expect(
      claimSignature({ key, poolName, userId: VECTOR.user, secretBlock: VECTOR.secretBlock, timestamp }),
    ).toBe(VECTOR.signature);
  });

  it('the reference derives the same vector key', () => {
    const helper = refHelperWithA('myPool', VECTOR.a);
    expect(fromRef(helper.largeAValue as RefBigInteger).toString()).toBe(VECTOR.A);
    expect(refKey(helper, VECTOR.user, VECTOR.password, VECTOR.B, VECTOR.salt)).toBe(VECTOR.key);
  });

  it('SECRET_HASH', () => {
    expect(secretHash('test', '123abd', 'clientSecret')).toBe('LoIX/oPJWZzFYv8liJYRo+CHv16FNDY10JlZEDjL3Vg=');
  });
});

describe('client guards', () => {
  const base = { poolName: 'myPool', userId: 'u', password: 'p', salt: 1n };

  it.each([
    ['0', 0n],
    ['N', N],
    ['2N', 2n * N],
  ])('rejects B = %s', (_name, B) => {
    const { a, A } = generateClientKeys();
    expect(() => passwordAuthenticationKey({ ...base, a, A, B })).toThrow(/B mod N/);
  });

  it('rejects negative B or salt', () => {
    const { a, A } = generateClientKeys();
    expect(() => passwordAuthenticationKey({ ...base, a, A, B: -5n })).toThrow(RangeError);
    expect(() => passwordAuthenticationKey({ ...base, a, A, B: 5n, salt: -1n })).toThrow(RangeError);
  });

  it('generates fresh 128-byte private values and A = g^a mod N', () => {
    const one = generateClientKeys();
    const two = generateClientKeys();
    expect(one.a).not.toBe(two.a);
    expect(one.a > 0n && one.a < 2n ** 1024n).toBe(true);
    expect(one.A).toBe(modPow(g, one.a, N));
    expect(one.A > 1n && one.A < N).toBe(true);
    expect(() => generateClientKeys(0n)).toThrow(RangeError);
  });

  it('rejects a malformed SECRET_BLOCK instead of decoding it leniently', () => {
    const key = Buffer.alloc(16);
    const args = { key, poolName: 'p', userId: 'u', timestamp: 't' };
    expect(() => claimSignature({ ...args, secretBlock: 'not base64!' })).toThrow(SyntaxError);
    expect(claimSignature({ ...args, secretBlock: 'AAAA' })).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });
});

describe('poolNameOf', () => {
  it.each([
    ['eu-west-1_myPool', 'myPool'],
    ['us-east-1_AbCdEf123', 'AbCdEf123'],
    ['local_5Xb2Ck9z', '5Xb2Ck9z'],
  ])('%s → %s', (id, name) => {
    expect(poolNameOf(id)).toBe(name);
  });

  it.each(['myPool', '', 'eu-west-1_', '_myPool', 'eu-west-1_my-pool'])('rejects %j', (id) => {
    expect(() => poolNameOf(id)).toThrow(SyntaxError);
  });
});

describe('formatTimestamp', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([
    [Date.UTC(2018, 6, 10, 11, 1, 0), 'Tue Jul 10 11:01:00 UTC 2018'],
    [Date.UTC(2022, 0, 1, 0, 0, 0), 'Sat Jan 1 00:00:00 UTC 2022'],
    [Date.UTC(2021, 11, 31, 23, 59, 59), 'Fri Dec 31 23:59:59 UTC 2021'],
    [Date.UTC(2024, 1, 29, 5, 4, 3), 'Thu Feb 29 05:04:03 UTC 2024'],
    [Date.UTC(2023, 8, 9, 9, 9, 9, 999), 'Sat Sep 9 09:09:09 UTC 2023'],
    [Date.UTC(2025, 4, 4, 12, 0, 0), 'Sun May 4 12:00:00 UTC 2025'],
  ])('%d → %s', (ms, text) => {
    expect(formatTimestamp(new Date(ms))).toBe(text);
  });

  it('rejects an invalid date', () => {
    expect(() => formatTimestamp(new Date(Number.NaN))).toThrow(RangeError);
  });

  it("matches the reference's DateHelper for random instants", () => {
    vi.useFakeTimers();
    const dateHelper = new ref.DateHelper();
    for (let i = 0; i < 300; i++) {
      const ms = Date.UTC(2000, 0, 1) + Math.floor(Math.random() * 50 * 365 * 86_400_000);
      vi.setSystemTime(ms);
      expect(formatTimestamp(new Date(ms))).toBe(dateHelper.getNowString());
    }
  });
});

describe('client/server round trip (server helpers for test doubles)', () => {
  it('client and server derive the same key, and the server accepts the claim', () => {
    for (let i = 0; i < 25; i++) {
      const poolName = poolNameOf(`eu-west-1_${randomBytes(6).toString('hex')}`);
      const userId = randomText();
      const password = randomText();
      const salt = randomSalt();
      const v = userVerifier({ poolName, userId, password, salt });
      const { b, B } = generateServerKeys(v);
      // The wire carries hex; parse it as a client would.
      const client = generateClientKeys();
      const clientKey = passwordAuthenticationKey({
        poolName,
        userId,
        password,
        ...client,
        B: hexToBigInt(B.toString(16)),
        salt: hexToBigInt(salt.toString(16)),
      });
      const serverKey = serverPasswordAuthenticationKey({ A: hexToBigInt(client.A.toString(16)), B, b, v });
      expect(clientKey.toString('hex')).toBe(serverKey.toString('hex'));

      const secretBlock = randomBytes(64 + i).toString('base64');
      const timestamp = formatTimestamp(new Date());
      const signature = claimSignature({ key: clientKey, poolName, userId, secretBlock, timestamp });
      const claim = { key: serverKey, poolName, userId, secretBlock, timestamp };
      expect(verifyClaimSignature({ ...claim, signature })).toBe(true);
      expect(verifyClaimSignature({ ...claim, timestamp: `${timestamp} `, signature })).toBe(false);
      expect(verifyClaimSignature({ ...claim, userId: `${userId}x`, signature })).toBe(false);
      expect(verifyClaimSignature({ ...claim, signature: signature.replace(/=$/, '') })).toBe(false);
      expect(verifyClaimSignature({ ...claim, signature: 'garbage' })).toBe(false);
      expect(verifyClaimSignature({ ...claim, secretBlock: '!!', signature })).toBe(false);

      if (i < 5) {
        const wrong = passwordAuthenticationKey({
          poolName,
          userId,
          password: `${password}x`,
          ...client,
          B,
          salt,
        });
        expect(wrong.equals(serverKey)).toBe(false);
        const wrongSignature = claimSignature({ key: wrong, poolName, userId, secretBlock, timestamp });
        expect(verifyClaimSignature({ ...claim, signature: wrongSignature })).toBe(false);
      }
    }
  });

  it('the server refuses A mod N = 0', () => {
    const v = userVerifier({ poolName: 'p', userId: 'u', password: 'x', salt: 1n });
    const { b, B } = generateServerKeys(v);
    for (const A of [0n, N, 2n * N])
      expect(() => serverPasswordAuthenticationKey({ A, B, b, v })).toThrow(/A mod N/);
  });

  it('B = (k·v + g^b) mod N for a given b', () => {
    const v = userVerifier({ poolName: 'p', userId: 'u', password: 'x', salt: 99n });
    expect(generateServerKeys(v, 1234567890n).B).toBe((k * v + modPow(g, 1234567890n, N)) % N);
    expect(() => generateServerKeys(v, 0n)).toThrow(RangeError);
  });
});

describe('device verifier (ConfirmDevice) and DEVICE_PASSWORD_VERIFIER', () => {
  const deviceGroupKey = '-abcDEF12';
  const deviceKey = 'eu-west-1_0fa6e1c4-9a2b-4c43-8f3e-0123456789ab';

  it('device passwords are base64 of 40 random bytes', () => {
    const one = randomDevicePassword();
    expect(Buffer.from(one, 'base64')).toHaveLength(40);
    expect(Buffer.from(one, 'base64').toString('base64')).toBe(one);
    expect(randomDevicePassword()).not.toBe(one);
  });

  it('encodes salt and verifier as base64 of padHex bytes', () => {
    const devicePassword = 'pw';
    const check = (randomSaltBytes: Buffer, saltLength: number) => {
      const config = deviceVerifier({
        deviceGroupKey,
        deviceKey,
        devicePassword,
        randomSalt: randomSaltBytes,
      });
      const salt = Buffer.from(config.salt, 'base64');
      expect(salt).toHaveLength(saltLength);
      expect(salt.toString('hex')).toBe(padHex(bufferToBigInt(randomSaltBytes)));
      const x = computeX({
        salt: bufferToBigInt(salt),
        poolName: deviceGroupKey,
        userId: deviceKey,
        password: devicePassword,
      });
      expect(Buffer.from(config.passwordVerifier, 'base64').toString('hex')).toBe(padHex(computeVerifier(x)));
    };
    check(Buffer.from('7f'.repeat(16), 'hex'), 16);
    check(Buffer.from(`80${'00'.repeat(15)}`, 'hex'), 17); // top bit set: 00 prefix
    check(Buffer.from(`0001${'ab'.repeat(14)}`, 'hex'), 15); // leading zero byte drops out
    for (let i = 0; i < 5; i++) {
      const bytes = randomBytes(16);
      check(bytes, Buffer.from(padHex(bufferToBigInt(bytes)), 'hex').length);
    }
  });

  it('a device "server" verifies a DEVICE_PASSWORD_VERIFIER signature made from the device password', () => {
    for (let i = 0; i < 10; i++) {
      const devicePassword = randomDevicePassword();
      const config = deviceVerifier({ deviceGroupKey, deviceKey, devicePassword });
      // What the pool stores from ConfirmDevice; later it sends SALT and SRP_B as hex.
      const stored = parseDeviceVerifier(config);
      const { b, B } = generateServerKeys(stored.v);
      const client = generateClientKeys();
      const clientKey = passwordAuthenticationKey({
        poolName: deviceGroupKey,
        userId: deviceKey,
        password: devicePassword,
        ...client,
        B: hexToBigInt(B.toString(16)),
        salt: hexToBigInt(stored.salt.toString(16)),
      });
      const serverKey = serverPasswordAuthenticationKey({ A: client.A, B, b, v: stored.v });
      expect(clientKey.equals(serverKey)).toBe(true);

      const secretBlock = randomBytes(48).toString('base64');
      const timestamp = formatTimestamp(new Date());
      const signature = claimSignature({
        key: clientKey,
        poolName: deviceGroupKey,
        userId: deviceKey,
        secretBlock,
        timestamp,
      });
      const claim = { key: serverKey, poolName: deviceGroupKey, userId: deviceKey, secretBlock, timestamp };
      expect(verifyClaimSignature({ ...claim, signature })).toBe(true);

      const wrongKey = passwordAuthenticationKey({
        poolName: deviceGroupKey,
        userId: deviceKey,
        password: randomDevicePassword(),
        ...client,
        B,
        salt: stored.salt,
      });
      const wrong = claimSignature({
        key: wrongKey,
        poolName: deviceGroupKey,
        userId: deviceKey,
        secretBlock,
        timestamp,
      });
      expect(verifyClaimSignature({ ...claim, signature: wrong })).toBe(false);
    }
  });

  it('parseDeviceVerifier rejects garbage', () => {
    expect(() => parseDeviceVerifier({ passwordVerifier: 'not base64!', salt: 'AAAA' })).toThrow(SyntaxError);
    expect(() => parseDeviceVerifier({ passwordVerifier: 'AAAA', salt: 'AAAA' })).toThrow(RangeError);
  });
});

describe('cross-check against amazon-cognito-identity-js AuthenticationHelper', () => {
  it('derives the same user key for random inputs (server-made B and arbitrary B)', () => {
    for (let i = 0; i < 8; i++) {
      const poolName = randomBytes(5).toString('hex');
      const userId = randomText();
      const password = randomText();
      const salt = i % 2 === 0 ? randomSalt() : bufferToBigInt(randomBytes(1 + i * 7));
      const v = userVerifier({ poolName, userId, password, salt });
      const { b, B } = i < 4 ? generateServerKeys(v) : { b: 0n, B: randomBelowN() };
      const client = generateClientKeys();
      const helper = refHelperWithA(poolName, client.a);
      expect(fromRef(helper.largeAValue as RefBigInteger)).toBe(client.A);
      const ours = passwordAuthenticationKey({ poolName, userId, password, ...client, B, salt }).toString(
        'hex',
      );
      expect(refKey(helper, userId, password, B, salt)).toBe(ours);
      if (i < 4) expect(serverPasswordAuthenticationKey({ A: client.A, B, b, v }).toString('hex')).toBe(ours);
    }
  });

  /*
   * u's hash as HKDF salt. identity-js 6.x (installed), amplify-js v6, pycognito and cognito-srp all use
   * bytes(padHex(u as an integer)). The archived amazon-cognito-identity-js instead padded the 64-digit hash
   * *string*: when the hash starts with byte 0x00 followed by a byte below 0x80 (about 1 in 512), the integer
   * form drops that leading 00 byte and the two salts, hence the keys, differ. We follow the integer form;
   * which one the real service uses was not tested here (cognito-protocol.md marks it [?]). This test finds
   * such a u and shows that the installed reference agrees with us while the archived form would not.
   */
  it('agrees on the rare u whose hash starts with 00 followed by a byte below 0x80', () => {
    const poolName = 'rarePool';
    const userId = 'rare-user';
    const password = 'rare password';
    const salt = randomSalt();
    const client = generateClientKeys();
    let B = 0n;
    let uHash = Buffer.alloc(0);
    for (let tries = 0; tries < 50_000; tries++) {
      const candidate = randomBelowN();
      const hash = createHash('sha256')
        .update(Buffer.from(padHex(client.A) + padHex(candidate), 'hex'))
        .digest();
      if (hash[0] === 0 && (hash[1] ?? 0xff) < 0x80 && (hash[1] ?? 0) !== 0) {
        B = candidate;
        uHash = hash;
        break;
      }
    }
    expect(B).not.toBe(0n);
    const u = computeU(client.A, B);
    expect(padHex(u)).toBe(uHash.subarray(1).toString('hex')); // 31 bytes: the 00 byte dropped

    const ours = passwordAuthenticationKey({ poolName, userId, password, ...client, B, salt });
    expect(refKey(refHelperWithA(poolName, client.a), userId, password, B, salt)).toBe(ours.toString('hex'));

    // The archived variant: HKDF salt = the full 32-byte hash.
    const x = computeX({ salt, poolName, userId, password });
    const S = modPow((((B - k * computeVerifier(x)) % N) + N) % N, client.a + u * x, N);
    expect(deriveKey(S, u).equals(ours)).toBe(true);
    const prk = createHmac('sha256', uHash)
      .update(Buffer.from(padHex(S), 'hex'))
      .digest();
    const archived = createHmac('sha256', prk).update('Caldera Derived Key\u0001').digest().subarray(0, 16);
    expect(archived.equals(ours)).toBe(false);
  });

  it("verifies the reference's ConfirmDevice verifier, and the reference matches our device verifier", () => {
    const deviceGroupKey = `-${randomBytes(4).toString('hex')}`;
    const deviceKey = `eu-west-1_${randomBytes(8).toString('hex')}`;

    // Reference client confirms a device (as CognitoUser does: base64 of the hex strings' bytes) ...
    const refDevice = new ref.AuthenticationHelper(deviceGroupKey);
    sync<null>((cb) => refDevice.generateHashDevice(deviceGroupKey, deviceKey, (err) => cb(err, null)));
    const refConfig = {
      passwordVerifier: Buffer.from(refDevice.getVerifierDevices(), 'hex').toString('base64'),
      salt: Buffer.from(refDevice.getSaltDevices(), 'hex').toString('base64'),
    };
    const refPassword = refDevice.getRandomPassword();
    const stored = parseDeviceVerifier(refConfig);
    const x = computeX({
      salt: stored.salt,
      poolName: deviceGroupKey,
      userId: deviceKey,
      password: refPassword,
    });
    expect(computeVerifier(x)).toBe(stored.v);
    // ... and both the reference and our client then pass our server's check.
    {
      const { b, B } = generateServerKeys(stored.v);
      const client = generateClientKeys();
      const serverKey = serverPasswordAuthenticationKey({ A: client.A, B, b, v: stored.v });
      const ours = passwordAuthenticationKey({
        poolName: deviceGroupKey,
        userId: deviceKey,
        password: refPassword,
        ...client,
        B,
        salt: stored.salt,
      });
      expect(ours.equals(serverKey)).toBe(true);
      const theirs = refKey(refHelperWithA(deviceGroupKey, client.a), deviceKey, refPassword, B, stored.salt);
      expect(theirs).toBe(serverKey.toString('hex'));
    }

    // Our device verifier, then the reference client signs in with the device password.
    const devicePassword = randomDevicePassword();
    const ourStored = parseDeviceVerifier(deviceVerifier({ deviceGroupKey, deviceKey, devicePassword }));
    const { b, B } = generateServerKeys(ourStored.v);
    const client = generateClientKeys();
    const serverKey = serverPasswordAuthenticationKey({ A: client.A, B, b, v: ourStored.v });
    const theirs = refKey(
      refHelperWithA(deviceGroupKey, client.a),
      deviceKey,
      devicePassword,
      B,
      ourStored.salt,
    );
    expect(theirs).toBe(serverKey.toString('hex'));
  });
});
