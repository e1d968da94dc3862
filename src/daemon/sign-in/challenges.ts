/**
 * The answers to Cognito's challenges in the SRP/password sign-in: the SRP proofs (PASSWORD_VERIFIER, a
 * remembered device's DEVICE_SRP_AUTH), MFA codes, the choice of factor, a new password. The math is in
 * shared/srp.ts; the protocol facts in the project notes cognito-protocol.md.
 */
import type { ProfileConfig } from '../../shared/config.js';
import { CogTokenError } from '../../shared/errors.js';
import {
  claimSignature,
  formatTimestamp,
  generateClientKeys,
  hexToBigInt,
  passwordAuthenticationKey,
  poolNameOf,
} from '../../shared/srp.js';
import type { AuthStep, Challenge, ChallengeAnswer } from '../cognito-gateway.js';
import {
  type Flow,
  maxCodeAttempts,
  parseJson,
  parseList,
  required,
  unexpected,
  unsupported,
  untilCodeTaken,
} from './flow.js';
import { setUpTotp } from './totp-setup.js';

type SrpKeys = ReturnType<typeof generateClientKeys>;

/** The challenges answered by a code, and how each asks for it. */
const codeChallenges: Record<string, (p: ProfileConfig, dest?: string) => string> = {
  SMS_MFA: (p, dest) => `SMS code${dest ? ` sent to ${dest}` : ''} (cog-token profile ${p.name}): `,
  SOFTWARE_TOKEN_MFA: (p) => `Authenticator app code (cog-token profile ${p.name}): `,
  EMAIL_OTP: (p, dest) => `Email code${dest ? ` sent to ${dest}` : ''} (cog-token profile ${p.name}): `,
};

export async function answer(
  flow: Flow,
  step: Challenge,
  password: string,
  srp?: SrpKeys,
): Promise<AuthStep> {
  const { p } = flow.ctx;
  const params = step.parameters;
  const code = codeChallenges[step.name];
  if (code) return answerCode(flow, step, code(p, params.CODE_DELIVERY_DESTINATION));
  switch (step.name) {
    case 'PASSWORD_VERIFIER': {
      if (!srp) throw unexpected(p, step.name);
      const userId = params.USER_ID_FOR_SRP ?? flow.username;
      const claim = proof(flow, step, srp, { poolName: poolNameOf(p.userPoolId ?? ''), userId, password });
      flow.username = userId;
      return flow.respond(step, claim);
    }
    case 'DEVICE_SRP_AUTH': {
      const device = flow.ctx.device;
      if (!device) throw unexpected(p, step.name);
      const keys = generateClientKeys();
      const next = await flow.respond(step, { kind: 'device-srp', srpA: keys.A.toString(16) });
      if (next.kind !== 'challenge' || next.name !== 'DEVICE_PASSWORD_VERIFIER') return next;
      const { deviceGroupKey: poolName, deviceKey: userId, devicePassword } = device;
      const claim = proof(flow, next, keys, { poolName, userId, password: devicePassword });
      flow.username = next.parameters.USERNAME ?? flow.username;
      return flow.respond(next, claim);
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
      const given = parseJson(params.userAttributes);
      const current = typeof given === 'object' && given !== null ? (given as Record<string, string>) : {};
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

/** The SRP proof of a password, the user's or a remembered device's (pool name := group, user := device). */
function proof(
  flow: Flow,
  step: Challenge,
  keys: SrpKeys,
  who: { poolName: string; userId: string; password: string },
): ChallengeAnswer {
  const { p } = flow.ctx;
  const timestamp = formatTimestamp(flow.now());
  const B = hexToBigInt(required(p, step, 'SRP_B'));
  const salt = hexToBigInt(required(p, step, 'SALT'));
  const key = passwordAuthenticationKey({ ...who, a: keys.a, A: keys.A, B, salt });
  const secretBlock = required(p, step, 'SECRET_BLOCK');
  const { poolName, userId } = who;
  const signature = claimSignature({ key, poolName, userId, secretBlock, timestamp });
  return { kind: 'password-claim', secretBlock, timestamp, signature };
}

function answerCode(flow: Flow, step: Challenge, prompt: string): Promise<AuthStep> {
  const { p } = flow.ctx;
  return untilCodeTaken(
    flow,
    { question: 'mfa', challenge: step.name, prompt },
    (code) => flow.ctx.gateway.answerChallenge(p, flow.caller(), step, { kind: 'code', code }),
    (error, tooManyWrong) =>
      tooManyWrong
        ? new CogTokenError('auth-rejected', {
            profile: p.name,
            problem: `${maxCodeAttempts} wrong codes in a row`,
            remedy: `check the code source, then run: cog-token login ${p.name}`,
          })
        : flow.failure(error),
  );
}
