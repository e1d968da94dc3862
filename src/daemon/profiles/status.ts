/** status: what each profile's state is, read as it stands; nothing is loaded into memory or changed. */
import { type Config, type ProfileConfig, profileIdentity } from '../../shared/config.js';
import { messageOf } from '../../shared/errors.js';
import type { ProfileStatus, ProfileState as Shown } from '../../shared/protocol.js';
import type { Clock } from '../clock.js';
import type { AwsCredentialsUseCase } from './aws-credentials.js';
import { type Profiles, storedState } from './profiles.js';
import { refreshTokenExpiresAt } from './refresh-expiry.js';
import { heldTokens, type ProfileState, settled } from './state.js';

export function profileStatuses(
  profiles: Profiles,
  clock: Clock,
  aws?: Pick<AwsCredentialsUseCase, 'expiresAt'>,
): { profiles: ProfileStatus[]; configError?: string; keyLocation: string } {
  let config: Pick<Config, 'profiles' | 'broken'> = { profiles: new Map(), broken: new Map() };
  let configError: string | undefined;
  /** No config can be used (refused for its mode, unreadable): every profile is unserved for that reason. */
  let unusable: string | undefined;
  try {
    ({ config, warning: configError } = profiles.config.current());
  } catch (error) {
    configError = messageOf(error);
    unusable = `not served: ${configError}`;
  }
  const { profiles: configured, broken } = config;
  const names = [...new Set([...configured.keys(), ...broken.keys(), ...profiles.store.names()])].sort();
  const signedOut = (name: string, lastError: string): ProfileStatus => ({
    name,
    state: 'signed-out',
    lastError,
  });
  return {
    profiles: names.map((name) => {
      const p = configured.get(name);
      const error = broken.get(name);
      if (error) return signedOut(name, error.message);
      if (!p) return signedOut(name, unusable ?? 'not in the config file');
      try {
        const awsExpiresAt = aws?.expiresAt(p);
        return {
          ...describe(p, current(profiles, p), clock.now()),
          ...(awsExpiresAt !== undefined ? { awsCredentialsExpiresAt: awsExpiresAt } : {}),
        };
      } catch (error) {
        return signedOut(name, messageOf(error));
      }
    }),
    ...(configError ? { configError } : {}),
    keyLocation: profiles.store.keyLocation,
  };
}

/** The state in memory, else the one the store holds; another identity's tokens count for nothing. */
function current(profiles: Profiles, p: ProfileConfig): ProfileState {
  const identity = profileIdentity(p);
  const held = profiles.peek(p.name);
  if (!held) return storedState(profiles.store.load(p.name), identity);
  return held.identity === identity ? held.state : { kind: 'signed-out' };
}

function describe(p: ProfileConfig, state: ProfileState, now: number): ProfileStatus {
  const s = settled(state);
  const t = heldTokens(state);
  const due = s.kind === 'refreshing' ? s.from : s;
  const nextAt =
    due.kind === 'valid' ? due.nextRefreshAt : due.kind === 'retrying' ? due.nextRetryAt : undefined;
  const shown: Shown =
    state.kind === 'signing-in' || state.kind === 'refreshing' || state.kind === 'needs-sign-in'
      ? state.kind
      : t && (t.refreshToken || t.idExpiresAt - now / 1000 > 0)
        ? 'signed-in'
        : 'signed-out';
  const lastError = s.kind === 'refreshing' ? (s.lastError ?? s.from.lastError) : s.lastError;
  // invalidate (git's erase) sets both expiries to 0: say so, not 1970.
  const dropped = t !== undefined && t.idExpiresAt === 0 && t.accessExpiresAt === 0;
  const refreshEnds = refreshTokenExpiresAt(p, t);
  return {
    name: p.name,
    state: shown,
    // A BROWSER profile names no user: who signed in on the page, from the tokens.
    username: p.username ?? t?.username,
    ...(t && !dropped ? { idExpiresAt: t.idExpiresAt, accessExpiresAt: t.accessExpiresAt } : {}),
    ...(t && !dropped && t.issuedAt ? { issuedAt: t.issuedAt } : {}),
    ...(t?.signedInAt !== undefined ? { signedInAt: t.signedInAt } : {}),
    ...(refreshEnds !== undefined ? { refreshTokenExpiresAt: refreshEnds } : {}),
    ...(dropped ? { dropped: true } : {}),
    ...(nextAt ? { nextRefreshAt: Math.round(nextAt / 1000) } : {}),
    ...(lastError ? { lastError } : {}),
  };
}
