/**
 * get and login: answer from the cached tokens while they stay valid long enough, else refresh, else start
 * or join the profile's one sign-in. A get waits for a refresh or a sign-in at most its request's timeout.
 */
import { type ProfileConfig, profileIdentity } from '../../shared/config.js';
import { CogTokenError } from '../../shared/errors.js';
import { defaultTimeoutSeconds, type Request, type TokenKind } from '../../shared/protocol.js';
import { withDeadline } from '../clock.js';
import { cognitoError } from '../cognito-errors.js';
import { CognitoCallError } from '../cognito-gateway.js';
import { log } from '../log.js';
import type { Tokens } from '../token-store.js';
import { isRefused } from './refresh.js';
import { expiryWarning } from './refresh-expiry.js';
import type { Asker } from './sign-in-flight.js';
import { heldTokens, usableTokens } from './state.js';
import type { Parts } from './use-cases.js';

/** A get's options are its request's own fields (`login` sets forceSignIn; `timeout` in seconds). */
export type GetOptions = Partial<
  Pick<Extract<Request, { op: 'get' }>, 'token' | 'minValid' | 'forceSignIn' | 'timeout'>
>;

/** Default for --min-valid: a token must stay valid this long to be handed out (capped at a quarter of its life). */
const defaultMinValidSeconds = 60;

/**
 * A --min-valid longer than the token's whole lifetime (from Cognito: exp - iat) cannot be met by any token,
 * so each get would refresh at Cognito and still hand out a token that expires sooner: refused, naming it.
 */
function refuseMinValidBeyondLifetime(
  p: ProfileConfig,
  kind: TokenKind,
  minValid: number | undefined,
  t: Tokens,
): void {
  const lifetime = (kind === 'id' ? t.idExpiresAt : t.accessExpiresAt) - t.issuedAt;
  if (minValid === undefined || lifetime <= 0 || minValid <= lifetime) return;
  throw new CogTokenError('usage', {
    profile: p.name,
    problem: `--min-valid ${minValid} is longer than the ${kind} token's whole lifetime (${lifetime} s, set by the pool's app client), so no token can meet it`,
    remedy: `use --min-valid ${lifetime} or less`,
  });
}

export class GetToken {
  constructor(private readonly parts: Parts) {}

  async get(name: string, asker: Asker, options: GetOptions) {
    const { p, warnings } = this.parts.profiles.lookup(name);
    const kind = options.token ?? p.token;
    const timeoutSeconds = options.timeout ?? defaultTimeoutSeconds;
    const tokens = options.forceSignIn
      ? await this.parts.signIns.run(p, asker, timeoutSeconds, options.timeout)
      : await this.ensure(p, asker, kind, options.minValid, warnings, timeoutSeconds, options.timeout);
    // After a sign-in too: the next get would otherwise refresh at Cognito for nothing.
    if (!options.forceSignIn) refuseMinValidBeyondLifetime(p, kind, options.minValid, tokens);
    const expiring = options.forceSignIn ? undefined : expiryWarning(this.parts, p, tokens);
    if (expiring) warnings.push(expiring);
    return {
      token: kind === 'id' ? tokens.idToken : tokens.accessToken,
      kind,
      expiresAt: kind === 'id' ? tokens.idExpiresAt : tokens.accessExpiresAt,
      warnings,
    };
  }

  private remaining(t: Tokens, kind: TokenKind): number {
    return (kind === 'id' ? t.idExpiresAt : t.accessExpiresAt) - this.parts.clock.now() / 1000;
  }

  private async ensure(
    p: ProfileConfig,
    asker: Asker,
    kind: TokenKind,
    minValid: number | undefined,
    warnings: string[],
    timeoutSeconds: number,
    explicitTimeout?: number,
  ): Promise<Tokens> {
    const state = this.parts.profiles.state(p);
    const t = usableTokens(state);
    if (t) {
      refuseMinValidBeyondLifetime(p, kind, minValid, t);
      const lifetime = Math.max(1, Math.min(t.idExpiresAt, t.accessExpiresAt) - t.issuedAt);
      // Valid cached tokens answer at once, even while a sign-in (a `login` at its prompt) is under way.
      if (this.remaining(t, kind) >= (minValid ?? Math.min(defaultMinValidSeconds, lifetime / 4))) return t;
      if (state.kind !== 'signing-in' && t.refreshToken) {
        try {
          // The refresh goes on past the deadline (and stores its tokens if it succeeds); this get stops waiting.
          // A transient failure, like any network trouble: the cached token if still valid, else unreachable.
          const late = `no answer from Cognito within ${timeoutSeconds} s`;
          const refresh = this.parts.refresher.run(p);
          const lateError = () => new CognitoCallError('TimeoutError', 'transient', late);
          return await withDeadline(this.parts.clock, refresh, timeoutSeconds * 1000, lateError);
        } catch (error) {
          if (!(error instanceof CognitoCallError)) throw error;
          if (!isRefused(error)) {
            const left = this.remaining(t, kind);
            if (left <= 0) throw cognitoError(p, 'refresh', error);
            warnings.push(
              `profile ${p.name}: refresh failed (${error.message}); handing out the cached token, valid for ${Math.floor(left)} s`,
            );
            return t;
          }
          // Cognito refused the refresh token: sign in, as on the first get.
        }
      }
    }
    return this.parts.signIns.run(p, asker, timeoutSeconds, explicitTimeout);
  }

  /** The id/access tokens were rejected by a server: expire them here so the next get refreshes. */
  invalidate(name: string): { warnings: string[] } {
    const { p, warnings } = this.parts.profiles.lookup(name);
    const tokens = heldTokens(this.parts.profiles.apply(p, { type: 'invalidated' }));
    if (tokens) {
      this.parts.profiles.store.save(p.name, profileIdentity(p), tokens);
      log.info(`profile ${name}: cached tokens invalidated`);
    }
    return { warnings };
  }
}
