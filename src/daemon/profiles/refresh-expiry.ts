/**
 * When the refresh token runs out: `refresh_token_days` (the app client's setting, which Cognito does not
 * tell a client) after the last sign-in. A refresh, rotating or not, never moves that date: a rotated
 * token lives only for what is left of the original. In the last days, get warns once a day per profile
 * (the time of the last warning is kept in the store, so a restarted daemon does not warn again).
 */
import type { ProfileConfig } from '../../shared/config.js';
import { humanDuration } from '../../shared/durations.js';
import type { Tokens } from '../token-store.js';
import type { Parts } from './use-cases.js';

const day = 86400;
/** get warns this long before the refresh token expires... */
const warnWithin = 3 * day;
/** ...at most once in this time for a profile. */
const warnEvery = day;

/** Epoch seconds at which the refresh token expires; undefined when unknown (no setting, no sign-in time). */
export function refreshTokenExpiresAt(p: ProfileConfig, tokens: Tokens | undefined): number | undefined {
  if (p.refreshTokenDays === undefined || !tokens?.refreshToken || tokens.signedInAt === undefined)
    return undefined;
  return tokens.signedInAt + p.refreshTokenDays * day;
}

/** The warning a get carries when the refresh token expires within 3 days, once a day; else undefined. */
export function expiryWarning(parts: Parts, p: ProfileConfig, tokens: Tokens): string | undefined {
  const expiresAt = refreshTokenExpiresAt(p, tokens);
  if (expiresAt === undefined) return undefined;
  const now = Math.floor(parts.clock.now() / 1000);
  const left = expiresAt - now;
  if (left <= 0 || left > warnWithin) return undefined;
  const warned = parts.store.expiryWarnedAt(p.name);
  if (warned !== undefined && warned <= now && now - warned < warnEvery) return undefined;
  parts.store.setExpiryWarnedAt(p.name, now);
  return `profile ${p.name}: the refresh token expires in ${humanDuration(left)}; run: cog-token login ${p.name}`;
}
