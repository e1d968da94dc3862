/**
 * How long a client waits for the daemon, on both connect paths. A stopped or wedged daemon must end in
 * exit 6, never a hang. The bound applies to each wait for the daemon (for its first message, and again
 * after each answer the client sends); time a person spends answering a question at this client's terminal
 * (or a command or pinentry runs) is not counted, so nobody typing a password is cut off.
 *
 * With `--timeout N` (the daemon waits up to N s for Cognito), the client gives the daemon N + 5 s to reply:
 * the daemon's own timeout error arrives first. Without it, 30 s: a sign-in makes several calls to Cognito
 * between two messages, each bounded by the daemon's connect and request timeouts.
 */
import { CogTokenError } from '../../shared/errors.js';

const defaultReplyWaitSeconds = 30;
const replyGraceSeconds = 5;

export function replyWaitMs(timeoutSeconds?: number): number {
  return (timeoutSeconds === undefined ? defaultReplyWaitSeconds : timeoutSeconds + replyGraceSeconds) * 1000;
}

/** The wait for the daemon is over: exit 6. */
export function noAnswer(socketFile: string, waitMs: number): CogTokenError {
  return new CogTokenError('daemon-unreachable', {
    problem: `no answer from the cog-token daemon at ${socketFile} within ${waitMs / 1000} s`,
    remedy: 'it is stopped or stuck; end its process and run the command again',
  });
}
