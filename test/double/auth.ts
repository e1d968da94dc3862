/**
 * Sign-in: InitiateAuth (USER_SRP_AUTH, USER_PASSWORD_AUTH; refresh flows are in ./refresh.ts),
 * RespondToAuthChallenge for every challenge, and AssociateSoftwareToken / VerifySoftwareToken.
 *
 * Order after the password: NEW_PASSWORD_REQUIRED, then MFA (MFA_SETUP, SELECT_MFA_TYPE, SMS_MFA,
 * SOFTWARE_TOKEN_MFA, EMAIL_OTP; skipped for a remembered device when challengeOnNewDeviceOnly), then
 * DEVICE_SRP_AUTH / DEVICE_PASSWORD_VERIFIER when the client named a confirmed device, then tokens.
 *
 * Sessions are single use: each successful answer ends its session and the next challenge gets a new one.
 * A wrong MFA code (CodeMismatchException) and a stale device key (ResourceNotFoundException) keep the
 * session, so the client can retry (identity-js retries PASSWORD_VERIFIER without DEVICE_KEY on the same
 * session); any other failure ends it.
 */
import * as OTPAuth from 'otpauth';
import {
  CognitoError,
  deviceNotFound,
  incorrectPassword,
  invalidParameter,
  type Json,
  notAuthorized,
  optString,
  reqMap,
  reqString,
} from './errors.js';
import { refreshTokenAuth } from './refresh.js';
import { decoyVerifier, parseSrpA, startSrp, verifySrpClaim } from './srp-flows.js';
import type { AuthSession, ChallengeName, MfaName, PoolState, SignIn, UserRecord } from './state.js';
import { authorize, signInResult } from './tokens.js';

export function initiateAuth(pool: PoolState, body: Json): Json {
  const clientId = reqString(body, 'ClientId');
  pool.checkClient(clientId);
  const flow = reqString(body, 'AuthFlow');
  const params = reqMap(body, 'AuthParameters');
  switch (flow) {
    case 'USER_SRP_AUTH':
      return userSrpAuth(pool, clientId, params);
    case 'USER_PASSWORD_AUTH':
      return userPasswordAuth(pool, clientId, params);
    case 'REFRESH_TOKEN_AUTH':
    case 'REFRESH_TOKEN':
      return refreshTokenAuth(pool, clientId, params);
    default:
      throw invalidParameter(`Initiate Auth method not supported: ${flow}`);
  }
}

function userSrpAuth(pool: PoolState, clientId: string, params: Json): Json {
  const username = reqString(params, 'USERNAME');
  const A = parseSrpA(reqString(params, 'SRP_A'));
  pool.checkSecretHash(username, optString(params, 'SECRET_HASH'));
  const user = pool.findUser(username);
  if (user?.status === 'RESET_REQUIRED') {
    throw new CognitoError('PasswordResetRequiredException', 'Password reset required for the user');
  }
  const userId = user?.username ?? username;
  const verifier = user ? { v: user.verifier, salt: user.salt } : decoyVerifier(pool.poolName, userId);
  const srp = startSrp({ A, ...verifier, poolName: pool.poolName, userId });
  const deviceKey = optString(params, 'DEVICE_KEY');
  const signIn: SignIn = {
    username: user?.username,
    clientId,
    ...(deviceKey ? { deviceKey } : {}),
    newPasswordDone: false,
    mfaDone: false,
    deviceDone: false,
  };
  return challenge(
    pool,
    signIn,
    'PASSWORD_VERIFIER',
    { ...srp.params, USERNAME: userId, USER_ID_FOR_SRP: userId },
    {
      srp: srp.state,
    },
  );
}

function userPasswordAuth(pool: PoolState, clientId: string, params: Json): Json {
  const username = reqString(params, 'USERNAME');
  const password = reqString(params, 'PASSWORD');
  pool.checkSecretHash(username, optString(params, 'SECRET_HASH'));
  const user = pool.findUser(username);
  if (user?.status === 'RESET_REQUIRED') {
    throw new CognitoError('PasswordResetRequiredException', 'Password reset required for the user');
  }
  if (!user || user.password !== password) throw incorrectPassword();
  if (user.status === 'UNCONFIRMED')
    throw new CognitoError('UserNotConfirmedException', 'User is not confirmed.');
  const deviceKey = optString(params, 'DEVICE_KEY');
  if (deviceKey && !pool.usableDevice(user.username, deviceKey)) throw deviceNotFound();
  return continueSignIn(pool, {
    username: user.username,
    clientId,
    ...(deviceKey ? { deviceKey } : {}),
    newPasswordDone: false,
    mfaDone: false,
    deviceDone: false,
  });
}

/** A challenge response with a new session for it. */
function challenge(
  pool: PoolState,
  signIn: SignIn,
  name: ChallengeName,
  params: Record<string, string>,
  extra: Partial<Pick<AuthSession, 'srp' | 'code' | 'choices' | 'totpSetup'>> = {},
): Json {
  const session = pool.newSession({ signIn, expect: name, ...extra });
  return { ChallengeName: name, ChallengeParameters: params, Session: session.id };
}

/** The next step of a sign-in whose password has been verified. */
function continueSignIn(pool: PoolState, signIn: SignIn): Json {
  const user = pool.userOf(signIn.username);
  if (user.forceNewPassword && !signIn.newPasswordDone) {
    const attributes = { ...user.attributes };
    const missing = pool.opts.requiredAttributes.filter((name) => !(name in attributes));
    return challenge(pool, signIn, 'NEW_PASSWORD_REQUIRED', {
      USER_ID_FOR_SRP: user.username,
      userAttributes: JSON.stringify(attributes),
      requiredAttributes: JSON.stringify(missing.map((name) => `userAttributes.${name}`)),
    });
  }
  if (!signIn.mfaDone) {
    const mfa = mfaStep(pool, user, signIn);
    if (mfa) return mfa;
    signIn.mfaDone = true;
  }
  if (signIn.deviceKey && !signIn.deviceDone) return challenge(pool, signIn, 'DEVICE_SRP_AUTH', {});
  const result = signInResult(pool, user, signIn.clientId, signIn.deviceDone ? signIn.deviceKey : undefined);
  return { ChallengeParameters: {}, AuthenticationResult: result };
}

function mfaStep(pool: PoolState, user: UserRecord, signIn: SignIn): Json | undefined {
  const methods = pool.enabledMfa(user);
  if (methods.length === 0) {
    if (!user.mfaSetupRequired) return undefined;
    return challenge(pool, signIn, 'MFA_SETUP', { MFAS_CAN_SETUP: JSON.stringify(['SOFTWARE_TOKEN_MFA']) });
  }
  if (pool.opts.challengeOnNewDeviceOnly && signIn.deviceKey) {
    if (pool.usableDevice(user.username, signIn.deviceKey)?.remembered) return undefined;
  }
  const preferred = user.mfa.preferred;
  const chosen =
    preferred && methods.includes(preferred) ? preferred : methods.length === 1 ? methods[0] : undefined;
  if (!chosen) {
    return challenge(
      pool,
      signIn,
      'SELECT_MFA_TYPE',
      { MFAS_CAN_CHOOSE: JSON.stringify(methods) },
      { choices: methods },
    );
  }
  return mfaChallenge(pool, user, signIn, chosen);
}

function mfaChallenge(pool: PoolState, user: UserRecord, signIn: SignIn, name: MfaName): Json {
  if (name === 'SOFTWARE_TOKEN_MFA') return challenge(pool, signIn, name, {});
  const medium = name === 'SMS_MFA' ? 'SMS' : 'EMAIL';
  const address = (medium === 'SMS' ? user.attributes.phone_number : user.attributes.email) ?? '';
  const destination =
    medium === 'SMS'
      ? `+*******${address.slice(-4)}`
      : `${address.slice(0, 1)}***@${address.split('@')[1]?.slice(0, 1) ?? ''}***`;
  const code = pool.newCode();
  pool.codes.push({ username: user.username, medium, destination, code });
  return challenge(
    pool,
    signIn,
    name,
    { CODE_DELIVERY_DELIVERY_MEDIUM: medium, CODE_DELIVERY_DESTINATION: destination },
    { code },
  );
}

// ---------------------------------------------------------------------------------------------------------
// RespondToAuthChallenge
// ---------------------------------------------------------------------------------------------------------

export function respondToAuthChallenge(pool: PoolState, body: Json): Json {
  const clientId = reqString(body, 'ClientId');
  pool.checkClient(clientId);
  const name = reqString(body, 'ChallengeName');
  const responses = reqMap(body, 'ChallengeResponses');
  const session = pool.openSession(optString(body, 'Session'), clientId);
  if (session.expect !== name) {
    throw invalidParameter(`Invalid challenge name ${name} for this session (expected ${session.expect})`);
  }
  const { signIn } = session;

  // USERNAME: the internal username or an alias of the session's user; SECRET_HASH over exactly that text.
  const username = reqString(responses, 'USERNAME');
  if (signIn.username !== undefined && pool.findUser(username)?.username !== signIn.username) {
    throw notAuthorized('Invalid session for the user.');
  }
  pool.checkSecretHash(username, optString(responses, 'SECRET_HASH'));

  if (name === 'DEVICE_SRP_AUTH' || name === 'DEVICE_PASSWORD_VERIFIER') {
    if (reqString(responses, 'DEVICE_KEY') !== signIn.deviceKey) throw deviceNotFound();
  } else if ('DEVICE_KEY' in responses) {
    const deviceKey = optString(responses, 'DEVICE_KEY');
    if (deviceKey) signIn.deviceKey = deviceKey;
    else delete signIn.deviceKey;
  }
  // A stale device: keep the session (minus the device) so the client can retry without DEVICE_KEY.
  if (signIn.deviceKey && signIn.username && !pool.usableDevice(signIn.username, signIn.deviceKey)) {
    delete signIn.deviceKey;
    throw deviceNotFound();
  }

  const step = STEPS[name];
  return step(pool, session, responses);
}

type Step = (pool: PoolState, session: AuthSession, responses: Json) => Json;

const STEPS: Record<ChallengeName, Step> = {
  PASSWORD_VERIFIER(pool, session, responses) {
    const { signIn } = session;
    if (!session.srp || !signIn.username || !verifySrpClaim(session.srp, responses)) {
      pool.endSession(session);
      throw incorrectPassword();
    }
    pool.endSession(session);
    if (pool.userOf(signIn.username).status === 'UNCONFIRMED') {
      throw new CognitoError('UserNotConfirmedException', 'User is not confirmed.');
    }
    return continueSignIn(pool, signIn);
  },

  NEW_PASSWORD_REQUIRED(pool, session, responses) {
    const user = pool.userOf(session.signIn.username);
    const password = reqString(responses, 'NEW_PASSWORD');
    const given: Record<string, string> = {};
    for (const [key, value] of Object.entries(responses)) {
      if (key.startsWith('userAttributes.') && typeof value === 'string') given[key.slice(15)] = value;
    }
    for (const name of pool.opts.requiredAttributes) {
      if (!(name in user.attributes) && !given[name])
        throw invalidParameter(`Invalid attributes given, ${name} is missing`);
    }
    pool.endSession(session);
    Object.assign(user.attributes, given);
    pool.setPassword(user, password);
    user.forceNewPassword = false;
    session.signIn.newPasswordDone = true;
    return continueSignIn(pool, session.signIn);
  },

  SMS_MFA: (pool, session, responses) => answerCode(pool, session, responses, 'SMS_MFA_CODE'),
  EMAIL_OTP: (pool, session, responses) => answerCode(pool, session, responses, 'EMAIL_OTP_CODE'),
  SOFTWARE_TOKEN_MFA: (pool, session, responses) =>
    answerCode(pool, session, responses, 'SOFTWARE_TOKEN_MFA_CODE'),

  SELECT_MFA_TYPE(pool, session, responses) {
    const answer = reqString(responses, 'ANSWER');
    const choice = session.choices?.find((name) => name === answer);
    if (!choice) throw invalidParameter(`Invalid ANSWER ${answer}: not one of MFAS_CAN_CHOOSE`);
    pool.endSession(session);
    return mfaChallenge(pool, pool.userOf(session.signIn.username), session.signIn, choice);
  },

  MFA_SETUP(pool, session) {
    const setup = session.totpSetup;
    if (!setup?.verified) throw invalidParameter('Software token MFA has not been verified for this session');
    const user = pool.userOf(session.signIn.username);
    pool.endSession(session);
    user.mfa.totpSecret = setup.secret;
    user.mfa.preferred = 'SOFTWARE_TOKEN_MFA';
    user.mfaSetupRequired = false;
    session.signIn.mfaDone = true;
    return continueSignIn(pool, session.signIn);
  },

  DEVICE_SRP_AUTH(pool, session, responses) {
    const { signIn } = session;
    const device = signIn.deviceKey ? pool.usableDevice(signIn.username, signIn.deviceKey) : undefined;
    if (!device?.verifier) throw deviceNotFound();
    const A = parseSrpA(reqString(responses, 'SRP_A'));
    const srp = startSrp({ A, ...device.verifier, poolName: device.groupKey, userId: device.key });
    pool.endSession(session);
    return challenge(
      pool,
      signIn,
      'DEVICE_PASSWORD_VERIFIER',
      { ...srp.params, USERNAME: signIn.username ?? '' },
      { srp: srp.state },
    );
  },

  DEVICE_PASSWORD_VERIFIER(pool, session, responses) {
    const { signIn } = session;
    pool.endSession(session);
    if (!session.srp || !verifySrpClaim(session.srp, responses)) throw incorrectPassword();
    const device = signIn.deviceKey ? pool.usableDevice(signIn.username, signIn.deviceKey) : undefined;
    if (device) device.lastAuthenticated = pool.now();
    signIn.deviceDone = true;
    return continueSignIn(pool, signIn);
  },
};

function answerCode(pool: PoolState, session: AuthSession, responses: Json, field: string): Json {
  const user = pool.userOf(session.signIn.username);
  const code = reqString(responses, field);
  const ok =
    session.expect === 'SOFTWARE_TOKEN_MFA' ? totpMatches(user.mfa.totpSecret, code) : code === session.code;
  // The session survives a wrong code, so the user can type it again.
  if (!ok) throw new CognitoError('CodeMismatchException', 'Invalid code or auth state for the user.');
  pool.endSession(session);
  session.signIn.mfaDone = true;
  return continueSignIn(pool, session.signIn);
}

function totpMatches(secret: string | undefined, code: string): boolean {
  if (!secret || !/^\d{6}$/.test(code)) return false;
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
  return totp.validate({ token: code, window: 1 }) !== null;
}

// ---------------------------------------------------------------------------------------------------------
// TOTP association: with a Session (the MFA_SETUP challenge) or with an AccessToken (a signed-in user)
// ---------------------------------------------------------------------------------------------------------

export function associateSoftwareToken(pool: PoolState, body: Json): Json {
  const secret = new OTPAuth.Secret({ size: 20 }).base32;
  const sessionId = optString(body, 'Session');
  if (sessionId === undefined) {
    authorize(pool, optString(body, 'AccessToken')).pendingTotpSecret = secret;
    return { SecretCode: secret };
  }
  const session = pool.openSession(sessionId, pool.opts.clientId);
  if (session.expect !== 'MFA_SETUP') throw notAuthorized('Invalid session for the user.');
  pool.endSession(session);
  const next = pool.newSession({
    signIn: session.signIn,
    expect: 'MFA_SETUP',
    totpSetup: { secret, verified: false },
  });
  return { SecretCode: secret, Session: next.id };
}

export function verifySoftwareToken(pool: PoolState, body: Json): Json {
  const code = reqString(body, 'UserCode');
  const sessionId = optString(body, 'Session');
  const mismatch = () =>
    new CognitoError('EnableSoftwareTokenMFAException', 'Code mismatch and fail enable Software Token MFA');
  if (sessionId === undefined) {
    const user = authorize(pool, optString(body, 'AccessToken'));
    if (!user.pendingTotpSecret)
      throw invalidParameter('No software token has been associated with this user');
    if (!totpMatches(user.pendingTotpSecret, code)) throw mismatch();
    user.mfa.totpSecret = user.pendingTotpSecret;
    delete user.pendingTotpSecret;
    return { Status: 'SUCCESS' };
  }
  const session = pool.openSession(sessionId, pool.opts.clientId);
  const setup = session.totpSetup;
  if (session.expect !== 'MFA_SETUP' || !setup) throw notAuthorized('Invalid session for the user.');
  if (!totpMatches(setup.secret, code)) throw mismatch();
  pool.endSession(session);
  const next = pool.newSession({
    signIn: session.signIn,
    expect: 'MFA_SETUP',
    totpSetup: { secret: setup.secret, verified: true },
  });
  return { Status: 'SUCCESS', Session: next.id };
}
