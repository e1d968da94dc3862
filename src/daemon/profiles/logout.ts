/**
 * logout: revokes the refresh token at Cognito, then deletes the tokens here: a crash in between leaves only
 * dead tokens behind (the next get signs in). When Cognito cannot be reached the tokens are kept, so that the
 * next logout can still revoke them; `local` deletes them here without asking Cognito.
 */
import { messageOf } from '../../shared/errors.js';
import { cognitoError } from '../cognito-errors.js';
import { CognitoCallError } from '../cognito-gateway.js';
import { log } from '../log.js';
import { heldTokens, settled } from './state.js';
import type { Parts } from './use-cases.js';

export async function logout(parts: Parts, name: string, options: { local?: boolean } = {}) {
  const { p, warnings } = parts.profiles.lookup(name);
  // A refresh under way may rotate the refresh token: revoke the one it leaves.
  const before = settled(parts.profiles.state(p));
  if (before.kind === 'refreshing') await before.flight.catch(() => undefined);
  const tokens = heldTokens(parts.profiles.state(p));
  let revoked = false;
  if (tokens?.refreshToken && !options.local) {
    const clientSecret = await parts.secrets.get(p);
    try {
      // A browser sign-in's refresh token is revoked where it was issued: <domain>/oauth2/revoke.
      if (p.authFlow === 'BROWSER') await parts.managedLogin.revoke(p, tokens.refreshToken, clientSecret);
      else await parts.gateway.revoke(p, tokens.refreshToken, clientSecret);
      revoked = true;
    } catch (error) {
      const message = messageOf(error);
      if (!(error instanceof CognitoCallError) || error.kind !== 'rejected') {
        log.warn(`profile ${name}: revocation failed, tokens kept: ${message}`);
        throw cognitoError(p, 'revoke', error);
      }
      // Cognito refuses it (already revoked or expired, or revocation is off for the app client): the token
      // signs nobody in through this client any more, or cannot be revoked at all; delete it here.
      warnings.push(`profile ${name}: Cognito did not revoke the refresh token (${message})`);
    }
  }
  const deleted = tokens !== undefined || parts.profiles.store.names().includes(name);
  parts.profiles.apply(p, { type: 'logged-out' });
  parts.profiles.store.delete(name);
  parts.awsCredentials.forget(name);
  log.info(
    `profile ${name}: signed out${revoked ? '; refresh token revoked' : options.local ? ' here only' : ''}`,
  );
  return { revoked, deleted, warnings };
}
