/**
 * One interactive sign-in: InitiateAuth, then each challenge until Cognito hands out tokens. Questions go
 * through a Questioner, which relays them to whichever client can answer (see profile-manager.ts).
 */
import type { ProfileConfig } from '../shared/config.js';
import { CogTokenError } from '../shared/errors.js';
import type { Question } from '../shared/protocol.js';
import { type AuthResult, type AuthStep, CognitoCallError, type CognitoGateway } from './cognito-gateway.js';

export interface QuestionSpec {
  question: Question;
  challenge?: string;
  prompt: string;
  retryReason?: string;
}

export interface Questioner {
  /** Resolves with the answer, or rejects with a CogTokenError when nobody can or will answer. */
  ask(spec: QuestionSpec): Promise<string>;
}

/** Wrong codes accepted before the sign-in is given up. */
export const maxCodeAttempts = 3;

const mfaResponseKey: Record<string, string> = {
  SMS_MFA: 'SMS_MFA_CODE',
  SOFTWARE_TOKEN_MFA: 'SOFTWARE_TOKEN_MFA_CODE',
};

export async function signIn(
  p: ProfileConfig,
  gateway: CognitoGateway,
  questioner: Questioner,
): Promise<AuthResult> {
  const password = await questioner.ask({
    question: 'password',
    prompt: `Password for ${p.username} (cog-token profile ${p.name}): `,
  });
  let step: AuthStep;
  try {
    step = await gateway.initiateAuth(p, p.authFlow, { USERNAME: p.username, PASSWORD: password });
  } catch (error) {
    throw signInError(p, error);
  }
  while (step.kind === 'challenge') {
    step = await answerChallenge(p, gateway, questioner, step);
  }
  return step.result;
}

async function answerChallenge(
  p: ProfileConfig,
  gateway: CognitoGateway,
  questioner: Questioner,
  step: Extract<AuthStep, { kind: 'challenge' }>,
): Promise<AuthStep> {
  // After the first challenge, Cognito's own name for the user is what every response must carry.
  const username = step.parameters.USER_ID_FOR_SRP ?? step.parameters.USERNAME ?? p.username;
  const responseKey = mfaResponseKey[step.name];
  if (!responseKey) {
    throw new CogTokenError(
      'auth-rejected',
      `profile ${p.name}: Cognito asked for ${step.name}, which cog-token cannot answer yet: sign in once with the AWS console or CLI, then run: cog-token login ${p.name}`,
    );
  }
  const destination = step.parameters.CODE_DELIVERY_DESTINATION;
  const prompt =
    step.name === 'SMS_MFA'
      ? `SMS code${destination ? ` sent to ${destination}` : ''} (cog-token profile ${p.name}): `
      : `Authenticator app code (cog-token profile ${p.name}): `;
  let retryReason: string | undefined;
  for (let attempt = 1; ; attempt++) {
    const code = (
      await questioner.ask({
        question: 'mfa',
        challenge: step.name,
        prompt,
        ...(retryReason ? { retryReason } : {}),
      })
    ).trim();
    try {
      return await gateway.respondToChallenge(p, step.name, step.session, {
        USERNAME: username,
        [responseKey]: code,
      });
    } catch (error) {
      const e = error instanceof CognitoCallError ? error : undefined;
      if (e?.exception === 'CodeMismatchException' && attempt < maxCodeAttempts) {
        retryReason = `That code was wrong (attempt ${attempt} of ${maxCodeAttempts}).`;
        continue;
      }
      if (e?.exception === 'CodeMismatchException') {
        throw new CogTokenError(
          'auth-rejected',
          `profile ${p.name}: ${maxCodeAttempts} wrong codes in a row: check the code source, then run: cog-token login ${p.name}`,
        );
      }
      throw signInError(p, error);
    }
  }
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
        `profile ${p.name}: the code expired before it was sent: run: cog-token login ${p.name}`,
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
