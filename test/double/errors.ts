/** Errors the double answers with, shaped like Cognito's: an exception name, a message and an HTTP status. */

export class CognitoError extends Error {
  constructor(
    /** The exception name, sent as `__type` and `x-amzn-errortype` (e.g. `NotAuthorizedException`). */
    readonly type: string,
    message: string,
    /** 400 for client errors (Cognito sends throttling as 400 too); 500 for InternalErrorException. */
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export const notAuthorized = (message: string) => new CognitoError('NotAuthorizedException', message);
export const invalidParameter = (message: string) => new CognitoError('InvalidParameterException', message);
export const resourceNotFound = (message: string) => new CognitoError('ResourceNotFoundException', message);
export const deviceNotFound = () => resourceNotFound('Device does not exist.');
export const incorrectPassword = () => notAuthorized('Incorrect username or password.');

// ---------------------------------------------------------------------------------------------------------
// Reading JSON request bodies (untyped wire data) without `any`
// ---------------------------------------------------------------------------------------------------------

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An optional string member; JSON null (identity-js sends `DEVICE_KEY: null`) reads as absent. */
export function optString(from: Json, key: string): string | undefined {
  const value = from[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidParameter(`${key} must be a string`);
  return value;
}

/** A required, non-empty string member. */
export function reqString(from: Json, key: string): string {
  const value = optString(from, key);
  if (value === undefined || value === '') throw invalidParameter(`Missing required parameter ${key}`);
  return value;
}

/** A map member such as AuthParameters / ChallengeResponses (absent → empty). */
export function reqMap(from: Json, key: string): Json {
  const value = from[key];
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw invalidParameter(`${key} must be a map`);
  return value;
}
