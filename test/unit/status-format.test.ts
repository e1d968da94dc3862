/** client/status-format.ts: the text `cog-token status` prints, from a daemon's status reply. */
import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../src/client/status-format.js';
import type { DaemonStatus } from '../../src/shared/protocol.js';

const now = 1_800_000_000;
const daemon: DaemonStatus = {
  pid: 42,
  version: '0.1.0',
  startedAt: now - 3 * 3600 - 300,
  uptimeSeconds: 3 * 3600 + 300,
  socket: '/run/user/1000/cog-token/sock',
  configFile: '/home/a/.config/cog-token/config.toml',
  peerCheck: 'SO_PEERCRED',
  log: '/home/a/.local/state/cog-token/daemon.log',
  keyLocation: 'key file /home/a/.local/state/cog-token/store.key',
  profiles: [],
};

describe('status text', () => {
  it('a refreshed profile: expiry, last refresh, last sign-in, next refresh, sign-in needed', () => {
    const text = formatStatus(
      {
        ...daemon,
        profiles: [
          {
            name: 'dev',
            state: 'signed-in',
            username: 'alice',
            idExpiresAt: now + 42 * 60,
            accessExpiresAt: now + 42 * 60,
            issuedAt: now - 18 * 60,
            signedInAt: now - 3 * 86400,
            nextRefreshAt: now + 37 * 60,
            refreshTokenExpiresAt: now + 27 * 86400,
          },
        ],
      },
      now * 1000,
    );
    expect(text).toBe(
      [
        'daemon: pid 42, version 0.1.0, up 3 h 5 min',
        'socket: /run/user/1000/cog-token/sock (peer uid checked by SO_PEERCRED)',
        'config: /home/a/.config/cog-token/config.toml',
        'log: /home/a/.local/state/cog-token/daemon.log',
        'key: key file /home/a/.local/state/cog-token/store.key',
        'profile dev: signed-in as alice',
        '  id token:       expires in 42 min',
        '  access token:   expires in 42 min',
        '  refreshed:      18 min ago',
        '  signed in:      3 days ago',
        '  next refresh:   in 37 min',
        '  sign-in needed: in 27 days (the refresh token expires then): cog-token login dev',
        '',
      ].join('\n'),
    );
  });

  it('expired tokens and an expired refresh token', () => {
    const text = formatStatus(
      {
        ...daemon,
        profiles: [
          {
            name: 'ci',
            state: 'needs-sign-in',
            idExpiresAt: now - 2 * 3600,
            accessExpiresAt: now - 2 * 3600,
            signedInAt: now - 31 * 86400,
            refreshTokenExpiresAt: now - 86400 - 5 * 3600,
            lastError: 'profile ci: Cognito refused the refresh token: run cog-token login ci',
          },
        ],
      },
      now * 1000,
    );
    expect(text.slice(text.indexOf('profile ci'))).toBe(
      [
        'profile ci: needs-sign-in',
        '  id token:       expired 2 h ago',
        '  access token:   expired 2 h ago',
        '  signed in:      31 days ago',
        '  sign-in needed: now (the refresh token expired 29 h ago): cog-token login ci',
        '  last error: profile ci: Cognito refused the refresh token: run cog-token login ci',
        '',
      ].join('\n'),
    );
  });
});
