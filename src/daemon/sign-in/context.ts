/**
 * What every sign-in method is given: the profile, the gateway, the clock, and a Questioner that relays
 * questions to whichever client can answer (profiles/sign-in-flight.ts).
 */
import type { ProfileConfig } from '../../shared/config.js';
import type { Ask } from '../../shared/protocol.js';
import type { CognitoGateway } from '../cognito-gateway.js';
import type { DeviceRecord } from '../token-store.js';

/** A question for a person, as an `ask` carries it (the connection adds the id and the profile). */
export type QuestionSpec = Omit<Ask, 'v' | 'type' | 'id' | 'profile'>;

interface Questioner {
  /** Resolves with the answer, or rejects with a CogTokenError when nobody can or will answer. */
  ask(spec: QuestionSpec): Promise<string>;
}

export interface SignInContext {
  p: ProfileConfig;
  gateway: CognitoGateway;
  questioner: Questioner;
  /** Epoch milliseconds. */
  now: () => number;
  clientSecret?: string;
  /** The remembered device, if any: sent as DEVICE_KEY, and answers DEVICE_SRP_AUTH. */
  device?: DeviceRecord;
  /** Called when Cognito no longer knows the device; the sign-in is then retried without it. */
  forgetDevice?: () => void;
}
