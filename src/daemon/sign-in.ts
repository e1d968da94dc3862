/**
 * One interactive sign-in: InitiateAuth (SRP or password), then each challenge until Cognito hands out
 * tokens. Questions go through a Questioner, which relays them to whichever client can answer
 * (profiles/sign-in-flight.ts). Facts and formulas: ../shared/cognito-protocol.md.
 */
import type { ProfileConfig } from '../shared/config.js';
import { CogTokenError } from '../shared/errors.js';
import type { Question } from '../shared/protocol.js';
import {
  claimSignature,
  formatTimestamp,
  generateClientKeys,
  hexToBigInt,
  passwordAuthenticationKey,
  poolNameOf,
} from '../shared/srp.js';
import {
  type AuthResult,
  type AuthStep,
  type Caller,
  type Challenge,
  type ChallengeAnswer,
  CognitoCallError,
  type CognitoGateway,
  isUnknownDevice,
} from './cognito-gateway.js';
import { log } from './log.js';
import type { DeviceRecord } from './token-store.js';

export interface QuestionSpec {
  question: Question;
  challenge?: string;
  prompt: string;
  retryReason?: string;
  choices?: string[];
  display?: string;
}

export interface Questioner {
  /** Resolves with the answer, or rejects with a CogTokenError when nobody can or will answer. */
  ask(spec: QuestionSpec): Promise<string>;
}

export interface SignInContext {
  p: ProfileConfig;
  gateway: CognitoGateway;
  questioner: Questioner;
  clientSecret?: string;
  /** The remembered device, if any: sent as DEVICE_KEY, and answers DEVICE_SRP_AUTH. */
  device?: DeviceRecord;
  /** Called when Cognito no longer knows the device; the sign-in is then retried without it. */
  forgetDevice?: () => void;
  now?: () => Date;
}

/** Wrong codes accepted before the sign-in is given up. */
export const maxCodeAttempts = 3;

/** The challenges answered by a code, and how each asks for it. */
const codeChallenges: Record<string, (p: ProfileConfig, dest?: string) => string> = {
  SMS_MFA: (p, dest) => `SMS code${dest ? ` sent to ${dest}` : ''} (cog-token profile ${p.name}): `,
  SOFTWARE_TOKEN_MFA: (p) => `Authenticator app code (cog-token profile ${p.name}): `,
  EMAIL_OTP: (p, dest) => `Email code${dest ? ` sent to ${dest}` : ''} (cog-token profile ${p.name}): `,
};

export async function signIn(ctx: SignInContext): Promise<AuthResult> {
  const { p } = ctx;
  const password = await ctx.questioner.ask({
    question: 'password',
    prompt: `Password for ${p.username} (cog-token profile ${p.name}): `,
  });
  try {
    return await attempt(ctx, password);
  } catch (error) {
    if (ctx.device && isUnknownDevice(error)) {
      log.info(
        `profile ${p.name}: Cognito no longer knows device ${ctx.device.deviceKey}; signing in without it`,
      );
      ctx.forgetDevice?.();
      const { device: _forgotten, ...rest } = ctx;
      return attempt(rest, password);
    }
    throw error;
  }
}

class Flow {
  /** Cognito's own name for the user once a challenge named it; SECRET_HASH must cover what we send. */
  username: string;
  constructor(readonly ctx: SignInContext) {
    this.username = ctx.p.username;
  }

  /** Who each request is made as: the name Cognito knows by now, the client secret, the device. */
  caller(): Caller {
    const { clientSecret, device } = this.ctx;
    return {
      username: this.username,
      ...(clientSecret ? { clientSecret } : {}),
      ...(device ? { deviceKey: device.deviceKey } : {}),
    };
  }

  async respond(step: Pick<Challenge, 'name' | 'session'>, answer: ChallengeAnswer): Promise<AuthStep> {
    try {
      return await this.ctx.gateway.answerChallenge(this.ctx.p, this.caller(), step, answer);
    } catch (error) {
      // Left as it is, so signIn() can forget the device and start over.
      if (isUnknownDevice(error)) throw error;
      throw signInError(this.ctx.p, error);
    }
  }

  now(): Date {
    return this.ctx.now?.() ?? new Date();
  }
}

async function attempt(ctx: SignInContext, password: string): Promise<AuthResult> {
  const { p } = ctx;
  const flow = new Flow(ctx);
  let srp: ReturnType<typeof generateClientKeys> | undefined;
  let step: AuthStep;
  try {
    if (p.authFlow === 'USER_SRP_AUTH') srp = generateClientKeys();
    step = await ctx.gateway.startSignIn(
      p,
      flow.caller(),
      srp ? { flow: 'USER_SRP_AUTH', srpA: srp.A.toString(16) } : { flow: 'USER_PASSWORD_AUTH', password },
    );
  } catch (error) {
    if (isUnknownDevice(error)) throw error;
    throw signInError(p, error);
  }
  for (let rounds = 0; step.kind === 'challenge'; rounds++) {
    if (rounds > 20)
      throw new CogTokenError('auth-rejected', `profile ${p.name}: Cognito kept asking; giving up`);
    flow.username = step.parameters.USER_ID_FOR_SRP ?? step.parameters.USERNAME ?? flow.username;
    step = await answer(flow, step, password, srp);
  }
  return step.result;
}

async function answer(
  flow: Flow,
  step: Challenge,
  password: string,
  srp: ReturnType<typeof generateClientKeys> | undefined,
): Promise<AuthStep> {
  const { p } = flow.ctx;
  const params = step.parameters;
  const code = codeChallenges[step.name];
  if (code) return answerCode(flow, step, code(p, params.CODE_DELIVERY_DESTINATION));
  switch (step.name) {
    case 'PASSWORD_VERIFIER': {
      if (!srp) throw unexpected(p, step.name);
      const userId = params.USER_ID_FOR_SRP ?? flow.username;
      const poolName = poolNameOf(p.userPoolId);
      const timestamp = formatTimestamp(flow.now());
      const key = passwordAuthenticationKey({
        poolName,
        userId,
        password,
        a: srp.a,
        A: srp.A,
        B: hexToBigInt(required(p, step, 'SRP_B')),
        salt: hexToBigInt(required(p, step, 'SALT')),
      });
      const secretBlock = required(p, step, 'SECRET_BLOCK');
      flow.username = userId;
      return flow.respond(step, {
        kind: 'password-claim',
        secretBlock,
        timestamp,
        signature: claimSignature({ key, poolName, userId, secretBlock, timestamp }),
      });
    }
    case 'DEVICE_SRP_AUTH': {
      const device = flow.ctx.device;
      if (!device) throw unexpected(p, step.name);
      const keys = generateClientKeys();
      const next = await flow.respond(step, { kind: 'device-srp', srpA: keys.A.toString(16) });
      if (next.kind !== 'challenge' || next.name !== 'DEVICE_PASSWORD_VERIFIER') return next;
      const timestamp = formatTimestamp(flow.now());
      const key = passwordAuthenticationKey({
        poolName: device.deviceGroupKey,
        userId: device.deviceKey,
        password: device.devicePassword,
        a: keys.a,
        A: keys.A,
        B: hexToBigInt(required(p, next, 'SRP_B')),
        salt: hexToBigInt(required(p, next, 'SALT')),
      });
      const secretBlock = required(p, next, 'SECRET_BLOCK');
      flow.username = next.parameters.USERNAME ?? flow.username;
      return flow.respond(next, {
        kind: 'password-claim',
        secretBlock,
        timestamp,
        signature: claimSignature({
          key,
          poolName: device.deviceGroupKey,
          userId: device.deviceKey,
          secretBlock,
          timestamp,
        }),
      });
    }
    case 'SELECT_MFA_TYPE': {
      const choices = parseList(params.MFAS_CAN_CHOOSE).filter((c) => c in codeChallenges);
      if (choices.length === 0)
        throw unsupported(p, `SELECT_MFA_TYPE offering ${params.MFAS_CAN_CHOOSE ?? 'nothing'}`);
      let pick: string | undefined =
        p.mfaPreference && choices.includes(p.mfaPreference) ? p.mfaPreference : undefined;
      if (!pick && choices.length === 1) pick = choices[0];
      pick ??= await flow.ctx.questioner.ask({
        question: 'select',
        challenge: step.name,
        choices,
        prompt: `Which second factor for cog-token profile ${p.name}? (set mfa_preference to skip this question) `,
      });
      if (!choices.includes(pick)) throw unsupported(p, `an MFA choice of ${pick}`);
      return flow.respond(step, { kind: 'choice', choice: pick });
    }
    case 'MFA_SETUP':
      return setUpTotp(flow, step);
    case 'NEW_PASSWORD_REQUIRED': {
      const newPassword = await flow.ctx.questioner.ask({
        question: 'new-password',
        challenge: step.name,
        prompt: `Cognito requires a new password for ${p.username} (cog-token profile ${p.name}). New password: `,
      });
      const attributes: Record<string, string> = {};
      const current = parseObject(params.userAttributes);
      for (const entry of parseList(params.requiredAttributes)) {
        const name = entry.replace(/^userAttributes\./, '');
        if (current[name]) continue;
        attributes[name] = await flow.ctx.questioner.ask({
          question: 'attribute',
          challenge: step.name,
          prompt: `Cognito requires the attribute "${name}" for ${p.username}: `,
        });
      }
      return flow.respond(step, { kind: 'new-password', password: newPassword, attributes });
    }
    default:
      throw unsupported(p, step.name);
  }
}

async function answerCode(flow: Flow, step: Challenge, prompt: string): Promise<AuthStep> {
  const { p } = flow.ctx;
  let retryReason: string | undefined;
  for (let attempt = 1; ; attempt++) {
    const code = (
      await flow.ctx.questioner.ask({
        question: 'mfa',
        challenge: step.name,
        prompt,
        ...(retryReason ? { retryReason } : {}),
      })
    ).trim();
    try {
      return await flow.ctx.gateway.answerChallenge(p, flow.caller(), step, { kind: 'code', code });
    } catch (error) {
      if (isUnknownDevice(error)) throw error;
      if (!(error instanceof CognitoCallError) || error.exception !== 'CodeMismatchException') {
        throw signInError(p, error);
      }
      if (attempt >= maxCodeAttempts) {
        throw new CogTokenError(
          'auth-rejected',
          `profile ${p.name}: ${maxCodeAttempts} wrong codes in a row: check the code source, then run: cog-token login ${p.name}`,
        );
      }
      retryReason = `That code was wrong (attempt ${attempt} of ${maxCodeAttempts}).`;
    }
  }
}

/** MFA_SETUP for an authenticator app: show the secret as an otpauth:// URI and a QR code, verify a code. */
async function setUpTotp(flow: Flow, step: Challenge): Promise<AuthStep> {
  const { p, gateway, questioner } = flow.ctx;
  const canSetUp = parseList(step.parameters.MFAS_CAN_SETUP);
  if (canSetUp.length > 0 && !canSetUp.includes('SOFTWARE_TOKEN_MFA')) {
    throw unsupported(
      p,
      `MFA_SETUP for ${canSetUp.join(', ')} (only an authenticator app can be set up here)`,
    );
  }
  if (!step.session) throw unexpected(p, 'MFA_SETUP without a session');
  let associated: { secretCode: string; session?: string };
  try {
    associated = await gateway.associateSoftwareToken(p, step.session);
  } catch (error) {
    throw signInError(p, error);
  }
  const issuer = `cog-token ${p.name}`;
  const uri = `otpauth://totp/${encodeURIComponent(`${issuer}:${p.username}`)}?secret=${associated.secretCode}&issuer=${encodeURIComponent(issuer)}`;
  const qrcode = await import('qrcode');
  // Block characters only, no colour escapes (the client strips escape sequences from what it shows): light
  // modules drawn in the terminal's foreground, for the usual light-on-dark terminal.
  const qr = await qrcode.toString(uri, {
    type: 'utf8',
    margin: 2,
    color: { dark: '#ffffff', light: '#000000' },
  });
  let session = associated.session ?? step.session;
  let retryReason: string | undefined;
  for (let attempt = 1; ; attempt++) {
    const code = (
      await questioner.ask({
        question: 'mfa-setup',
        challenge: step.name,
        display: `Cognito requires an authenticator app for ${p.username}. Scan this QR code, or add this URI:\n${uri}\n${qr}`,
        prompt: `First code from the authenticator app (cog-token profile ${p.name}): `,
        ...(retryReason ? { retryReason } : {}),
      })
    ).trim();
    try {
      const verified = await gateway.verifySoftwareToken(p, session, code);
      session = verified.session ?? session;
      break;
    } catch (error) {
      if (
        !(error instanceof CognitoCallError) ||
        error.exception !== 'CodeMismatchException' ||
        attempt >= maxCodeAttempts
      ) {
        throw signInError(p, error);
      }
      retryReason = `That code was wrong (attempt ${attempt} of ${maxCodeAttempts}).`;
    }
  }
  return flow.respond({ name: step.name, session }, { kind: 'totp-verified' });
}

function required(p: ProfileConfig, step: Challenge, name: string): string {
  const value = step.parameters[name];
  if (!value) throw unexpected(p, `${step.name} without ${name}`);
  return value;
}

function parseList(value: string | undefined): string[] {
  if (!value) return [];
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

function parseObject(value: string | undefined): Record<string, string> {
  if (!value) return {};
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

function unexpected(p: ProfileConfig, what: string): CogTokenError {
  return new CogTokenError(
    'auth-rejected',
    `profile ${p.name}: Cognito sent ${what}, which does not fit this sign-in`,
  );
}

function unsupported(p: ProfileConfig, challenge: string): CogTokenError {
  const why =
    challenge === 'CUSTOM_CHALLENGE'
      ? 'custom (Lambda) challenges need an answer only your own code knows'
      : challenge === 'WEB_AUTHN'
        ? 'passkeys need a browser'
        : 'cog-token cannot answer it';
  return new CogTokenError(
    'auth-rejected',
    `profile ${p.name}: Cognito asked for ${challenge}, and ${why}: use an app client and flow without it (auth_flow = "USER_SRP_AUTH"), then run: cog-token login ${p.name}`,
  );
}

/** Maps a failed sign-in call to the error a user sees. */
export function signInError(p: ProfileConfig, error: unknown): CogTokenError {
  if (error instanceof CogTokenError) return error;
  if (!(error instanceof CognitoCallError)) {
    return new CogTokenError('internal', `profile ${p.name}: sign-in failed: ${String(error)}`, {
      cause: error,
    });
  }
  const detail = error.message;
  switch (error.exception) {
    case 'NotAuthorizedException':
    case 'InvalidPasswordException':
    case 'UserNotFoundException':
      if (/secret hash/i.test(detail)) {
        return new CogTokenError(
          'config',
          `profile ${p.name}: Cognito could not verify the client secret (${detail}): check client_secret for client ${p.clientId}`,
          { cause: error },
        );
      }
      if (/attempts exceeded/i.test(detail)) {
        return new CogTokenError(
          'auth-rejected',
          `profile ${p.name}: too many failed sign-ins; Cognito locked the user for a while (${detail}): wait, then run: cog-token login ${p.name}`,
          { cause: error },
        );
      }
      return new CogTokenError(
        'auth-rejected',
        `profile ${p.name}: Cognito rejected the sign-in (${detail}): check username and password, then run: cog-token login ${p.name}`,
        { cause: error },
      );
    case 'PasswordResetRequiredException':
      return new CogTokenError(
        'auth-rejected',
        `profile ${p.name}: Cognito requires a password reset for ${p.username}: reset it (forgot-password), then run: cog-token login ${p.name}`,
        { cause: error },
      );
    case 'UserNotConfirmedException':
      return new CogTokenError(
        'auth-rejected',
        `profile ${p.name}: user ${p.username} is not confirmed: confirm the sign-up, then run: cog-token login ${p.name}`,
        { cause: error },
      );
    case 'ExpiredCodeException':
      return new CogTokenError(
        'auth-rejected',
        `profile ${p.name}: the code or the sign-in session expired: run: cog-token login ${p.name}`,
        { cause: error },
      );
    case 'ResourceNotFoundException':
    case 'InvalidParameterException':
    case 'InvalidUserPoolConfigurationException':
      return new CogTokenError(
        'config',
        `profile ${p.name}: Cognito refused the request (${detail}): check user_pool_id, client_id and the app client's auth flows`,
        { cause: error },
      );
  }
  if (error.kind === 'throttled') {
    return new CogTokenError(
      'unreachable',
      `profile ${p.name}: Cognito's attempt limit for this user was reached (${detail}): wait several minutes, then run: cog-token login ${p.name}`,
      { cause: error },
    );
  }
  if (error.kind === 'transient') return unreachableError(p, error);
  return new CogTokenError('auth-rejected', `profile ${p.name}: sign-in failed (${detail})`, {
    cause: error,
  });
}

export function unreachableError(p: ProfileConfig, error: CognitoCallError): CogTokenError {
  const where = p.endpoint ?? `cognito-idp.${p.region}.amazonaws.com`;
  return new CogTokenError(
    'unreachable',
    `profile ${p.name}: cannot reach Cognito at ${where} (${error.message}) and no cached token is valid: check the network, then retry`,
    { cause: error },
  );
}
