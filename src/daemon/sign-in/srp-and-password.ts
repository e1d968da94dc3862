/**
 * The SRP/password sign-in: InitiateAuth (USER_SRP_AUTH, or USER_PASSWORD_AUTH), then each challenge
 * (challenges.ts) until Cognito hands out tokens. A remembered device Cognito forgot is dropped and the
 * sign-in retried without it.
 */
import { CogTokenError } from '../../shared/errors.js';
import { generateClientKeys } from '../../shared/srp.js';
import { type AuthResult, type AuthStep, isUnknownDevice } from '../cognito-gateway.js';
import { log } from '../log.js';
import { answer } from './challenges.js';
import type { SignInContext } from './context.js';
import { Flow } from './flow.js';

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

async function attempt(ctx: SignInContext, password: string): Promise<AuthResult> {
  const { p } = ctx;
  const flow = new Flow(ctx);
  const srp = p.authFlow === 'USER_SRP_AUTH' ? generateClientKeys() : undefined;
  let step: AuthStep;
  try {
    step = await ctx.gateway.startSignIn(
      p,
      flow.caller(),
      srp ? { flow: 'USER_SRP_AUTH', srpA: srp.A.toString(16) } : { flow: 'USER_PASSWORD_AUTH', password },
    );
  } catch (error) {
    throw flow.failure(error);
  }
  for (let rounds = 0; step.kind === 'challenge'; rounds++) {
    if (rounds > 20) {
      throw new CogTokenError('auth-rejected', {
        profile: p.name,
        problem: 'Cognito kept asking; giving up',
        remedy: `check the user pool's app client settings, then run: cog-token login ${p.name}`,
      });
    }
    flow.username = step.parameters.USER_ID_FOR_SRP ?? step.parameters.USERNAME ?? flow.username;
    step = await answer(flow, step, password, srp);
  }
  return step.result;
}
