/**
 * One refresh per profile at a time (the gateway retries network errors). GetTokensFromRefreshToken first
 * (it rotates refresh tokens where the client says so); where the endpoint lacks it, REFRESH_TOKEN_AUTH.
 * Cognito refusing the refresh token moves the profile to needs-sign-in; any other failure keeps the tokens.
 */
import type { ProfileConfig } from '../../shared/config.js';
import { CogTokenError, messageOf } from '../../shared/errors.js';
import { type AuthResult, CognitoCallError, isUnavailableApi } from '../cognito-gateway.js';
import { log } from '../log.js';
import type { Tokens } from '../token-store.js';
import { settled } from './state.js';
import type { Parts } from './use-cases.js';

/** Cognito refused the refresh token: the profile needs a sign-in. */
export function isRefused(error: unknown): boolean {
  return error instanceof CognitoCallError && error.kind === 'rejected';
}

export class Refresher {
  constructor(private readonly parts: Parts) {}

  /** Starts the profile's refresh, or joins the one under way. */
  run(p: ProfileConfig): Promise<Tokens> {
    const s = settled(this.parts.profiles.state(p));
    if (s.kind === 'refreshing') return s.flight;
    if ((s.kind !== 'valid' && s.kind !== 'retrying') || !s.tokens.refreshToken) {
      return Promise.reject(
        new CogTokenError('needs-sign-in', {
          profile: p.name,
          problem: 'no refresh token',
          remedy: `run: cog-token login ${p.name}`,
        }),
      );
    }
    const flight = this.refresh(p, s.tokens, s.tokens.refreshToken);
    this.parts.profiles.apply(p, { type: 'refresh-started', flight });
    return flight;
  }

  private async refresh(p: ProfileConfig, held: Tokens, refreshToken: string): Promise<Tokens> {
    // Let run() record the flight before any outcome is applied.
    await Promise.resolve();
    try {
      const result = await this.call(p, held, refreshToken);
      const tokens = this.parts.profiles.accept(p, result, 'refreshed', refreshToken);
      log.info(`profile ${p.name}: refreshed`);
      return tokens;
    } catch (error) {
      const reason = messageOf(error);
      if (isRefused(error)) {
        log.warn(`profile ${p.name}: Cognito refused the refresh token (${reason}); a sign-in is needed`);
        this.parts.store.markNeedsSignIn(p.name);
        this.parts.profiles.apply(p, { type: 'refresh-refused', reason });
      } else {
        log.warn(`profile ${p.name}: refresh failed (${reason}); stored tokens kept`);
        this.parts.profiles.apply(p, { type: 'refresh-failed', reason });
      }
      throw error;
    }
  }

  private async call(p: ProfileConfig, held: Tokens, refreshToken: string): Promise<AuthResult> {
    const clientSecret = (await this.parts.secrets.get(p)) || undefined;
    // A BROWSER profile without a pool refreshes through its domain's token endpoint (no browser).
    if (p.authFlow === 'BROWSER' && p.userPoolId === undefined) {
      return this.parts.managedLogin.refresh(p, refreshToken, clientSecret);
    }
    const deviceKey = this.parts.devices.local(p)?.deviceKey;
    // REFRESH_TOKEN_AUTH hashes the internal username (cognito:username), not the name typed in the profile.
    const caller = { username: held.username ?? p.username ?? '', clientSecret, deviceKey }; // undefined: not sent
    const { gateway, profiles } = this.parts;
    if (profiles.refreshApi(p) !== 'REFRESH_TOKEN_AUTH') {
      try {
        const result = await gateway.refresh(p, 'GetTokensFromRefreshToken', refreshToken, caller);
        profiles.rememberRefreshApi(p, 'GetTokensFromRefreshToken');
        return result;
      } catch (error) {
        if (!(error instanceof CognitoCallError) || !isUnavailableApi(error)) throw error;
        log.info(`profile ${p.name}: GetTokensFromRefreshToken is not available here (${error.message})`);
      }
    }
    const result = await gateway.refresh(p, 'REFRESH_TOKEN_AUTH', refreshToken, caller);
    profiles.rememberRefreshApi(p, 'REFRESH_TOKEN_AUTH');
    return result;
  }
}
