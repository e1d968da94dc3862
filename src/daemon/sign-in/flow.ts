/**
 * One attempt of the SRP/password sign-in: who we are to Cognito by now, answering a challenge, and reading
 * its parameters. Shared by the challenge answers (challenges.ts, totp-setup.ts).
 */
import type { ProfileConfig } from '../../shared/config.js';
import { CogTokenError } from '../../shared/errors.js';
import { cognitoError } from '../cognito-errors.js';
import {
  type AuthStep,
  type Caller,
  type Challenge,
  type ChallengeAnswer,
  type ChallengeRef,
  CognitoCallError,
  isUnknownDevice,
} from '../cognito-gateway.js';
import type { QuestionSpec, SignInContext } from './context.js';

/** Wrong codes accepted before the sign-in is given up. */
export const maxCodeAttempts = 3;

export class Flow {
  /** Cognito's own name for the user once a challenge named it; SECRET_HASH must cover what we send. */
  username: string;
  constructor(readonly ctx: SignInContext) {
    // The API's flows always have one (config.ts requires it unless auth_flow is BROWSER).
    this.username = ctx.p.username ?? '';
  }

  /** Who each request is made as: the name Cognito knows by now, the client secret, the device. */
  caller(): Caller {
    const { clientSecret, device } = this.ctx;
    return { username: this.username, clientSecret, deviceKey: device?.deviceKey }; // undefined: not sent
  }

  async respond(step: ChallengeRef, answer: ChallengeAnswer): Promise<AuthStep> {
    try {
      return await this.ctx.gateway.answerChallenge(this.ctx.p, this.caller(), step, answer);
    } catch (error) {
      throw this.failure(error);
    }
  }

  /** A failed call as the user reads it; a device Cognito forgot is left as it is, so signIn() can forget it. */
  failure(error: unknown): unknown {
    return isUnknownDevice(error) ? error : cognitoError(this.ctx.p, 'sign-in', error);
  }

  now(): Date {
    return new Date(this.ctx.now());
  }
}

/**
 * Asks for a code and tries it until Cognito takes one: a wrong one (CodeMismatchException) is asked again,
 * saying so, up to maxCodeAttempts times. `fail` turns any other failure, or the last wrong code, into the error.
 */
export async function untilCodeTaken<T>(
  flow: Flow,
  spec: QuestionSpec,
  tryCode: (code: string) => Promise<T>,
  fail: (error: unknown, tooManyWrong: boolean) => unknown,
): Promise<T> {
  let retryReason: string | undefined;
  for (let attempt = 1; ; attempt++) {
    const code = await flow.ctx.questioner.ask({ ...spec, ...(retryReason ? { retryReason } : {}) });
    try {
      return await tryCode(code.trim());
    } catch (error) {
      const wrong = error instanceof CognitoCallError && error.exception === 'CodeMismatchException';
      if (!wrong || attempt >= maxCodeAttempts) throw fail(error, wrong);
      retryReason = `That code was wrong (attempt ${attempt} of ${maxCodeAttempts}).`;
    }
  }
}

export function required(p: ProfileConfig, step: Challenge, name: string): string {
  const value = step.parameters[name];
  if (!value) throw unexpected(p, `${step.name} without ${name}`);
  return value;
}

/** A challenge parameter that holds JSON (MFAS_CAN_CHOOSE, userAttributes...); undefined if it does not. */
export function parseJson(value: string | undefined): unknown {
  try {
    return value ? JSON.parse(value) : undefined;
  } catch {
    return undefined;
  }
}

/** A JSON array of strings in a challenge parameter; anything else is none. */
export function parseList(value: string | undefined): string[] {
  const parsed = parseJson(value);
  return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
}

export function unexpected(p: ProfileConfig, what: string): CogTokenError {
  return new CogTokenError('auth-rejected', {
    profile: p.name,
    problem: `Cognito sent ${what}, which does not fit this sign-in`,
    remedy: `check the user pool's app client settings, then run: cog-token login ${p.name}`,
  });
}

export function unsupported(p: ProfileConfig, challenge: string): CogTokenError {
  const why =
    challenge === 'CUSTOM_CHALLENGE'
      ? 'custom (Lambda) challenges need an answer only your own code knows'
      : challenge === 'WEB_AUTHN'
        ? 'passkeys need a browser'
        : 'cog-token cannot answer it';
  return new CogTokenError('auth-rejected', {
    profile: p.name,
    problem: `Cognito asked for ${challenge}, and ${why}`,
    remedy: `use an app client and flow without it (auth_flow = "USER_SRP_AUTH"), then run: cog-token login ${p.name}`,
  });
}
