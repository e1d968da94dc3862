/**
 * AWS credentials from an identity pool (profiles/aws-credentials.ts) on a fake clock: GetId once per
 * identity, the credentials kept sealed and answered while they stay valid for more than the margin, renewal
 * ahead of it, one exchange for many callers, a forgotten IdentityId fetched again, logout, status.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CognitoCallError } from '../../src/daemon/cognito-gateway.js';
import type { AwsCredentials, IdentityGateway } from '../../src/daemon/identity-gateway.js';
import type { ProfileConfig } from '../../src/shared/config.js';
import { asker, type FakeClock, statusOf, type World, world } from './harness.js';

const POOL = 'eu-west-1:11111111-2222-3333-4444-555555555555';

/** The identity pool as the port sees it; counts calls, issues `lifetime`-second credentials. */
class FakeIdentity implements IdentityGateway {
  readonly calls: string[] = [];
  lifetime = 3600;
  clock?: FakeClock;
  private serial = 0;
  readonly known = new Set<string>();
  /** Holds GetCredentialsForIdentity until the test lets it go. */
  gate: Promise<void> = Promise.resolve();
  /** The next GetCredentialsForIdentity fails with this. */
  failNext?: CognitoCallError;
  logins: Record<string, string>[] = [];

  async getId(p: ProfileConfig, idToken: string): Promise<string> {
    this.calls.push('GetId');
    this.logins.push({ [`cognito-idp.${p.region}.amazonaws.com/${p.userPoolId}`]: idToken });
    const id = `eu-west-1:identity-${this.calls.filter((c) => c === 'GetId').length}`;
    this.known.add(id);
    return id;
  }

  async getCredentials(_p: ProfileConfig, identityId: string): Promise<AwsCredentials> {
    this.calls.push(`GetCredentialsForIdentity ${identityId}`);
    await this.gate;
    const fail = this.failNext;
    this.failNext = undefined;
    if (fail) throw fail;
    if (!this.known.has(identityId)) {
      throw new CognitoCallError(
        'ResourceNotFoundException',
        'rejected',
        `ResourceNotFoundException: Identity '${identityId}' not found.`,
      );
    }
    const n = ++this.serial;
    return {
      accessKeyId: `ASIAFAKE${n}`,
      secretAccessKey: `secret-${n}-${'s'.repeat(30)}`,
      sessionToken: `session-${n}-${'t'.repeat(100)}`,
      expiresAt: Math.floor((this.clock?.now() ?? 0) / 1000) + this.lifetime,
    };
  }

  count(prefix: string): number {
    return this.calls.filter((c) => c.startsWith(prefix)).length;
  }
}

let w: World;
let identity: FakeIdentity;
afterEach(() => w.close());

function setup(extra: Record<string, string | number> = {}): void {
  identity = new FakeIdentity();
  w = world({ identity_pool_id: POOL, ...extra }, identity);
  identity.clock = w.clock;
}

const aws = (a = asker()) => w.daemon.awsCredentials('dev', a, {});

describe('AWS credentials on a fake clock', () => {
  it('signs in, calls GetId once and GetCredentialsForIdentity, then answers from the store', async () => {
    setup();
    const first = await aws();
    expect(w.cognito.count('startSignIn')).toBe(1);
    expect(identity.calls).toEqual(['GetId', 'GetCredentialsForIdentity eu-west-1:identity-1']);
    // The Logins key is built from the profile's region and pool; its value is the id token.
    const login = identity.logins[0]?.['cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Unit'];
    expect(login).toMatch(/^[\w-]+\.[\w-]+\.sig$/);
    expect(first.credentials).toMatchObject({ accessKeyId: 'ASIAFAKE1' });
    await w.clock.advance(60_000);
    expect((await aws()).credentials.accessKeyId).toBe('ASIAFAKE1');
    expect(identity.calls).toHaveLength(2);
    // Stored sealed: the store opens them, the database file holds no plaintext.
    const stored = w.store.loadAwsCredentials('dev', JSON.stringify(storedIdentity()));
    expect(stored?.identityId).toBe('eu-west-1:identity-1');
    expect(stored?.credentials?.secretAccessKey).toBe(first.credentials.secretAccessKey);
  });

  it('renews 900 s before expiry by default, ahead of any request, keeping the IdentityId', async () => {
    setup();
    await aws();
    await w.clock.advance(2699_000);
    expect(identity.count('GetCredentialsForIdentity')).toBe(1);
    expect((await aws()).credentials.accessKeyId).toBe('ASIAFAKE1');
    await w.clock.advance(1_000);
    expect(identity.count('GetCredentialsForIdentity')).toBe(2);
    const renewed = await aws();
    expect(renewed.credentials.accessKeyId).toBe('ASIAFAKE2');
    expect(renewed.credentials.expiresAt - w.clock.now() / 1000).toBe(3600);
    expect(identity.count('GetId')).toBe(1);
  });

  it('the margin is aws_credentials_min_valid, at most half the lifetime', async () => {
    setup({ aws_credentials_min_valid: 100 });
    await aws();
    await w.clock.advance(3499_000);
    expect(identity.count('GetCredentialsForIdentity')).toBe(1);
    await w.clock.advance(1_000);
    expect(identity.count('GetCredentialsForIdentity')).toBe(2);
    w.close();
    setup();
    identity.lifetime = 600; // shorter than twice the 900 s default: renewed at half its life
    await aws();
    await w.clock.advance(299_000);
    expect(identity.count('GetCredentialsForIdentity')).toBe(1);
    await w.clock.advance(1_000);
    expect(identity.count('GetCredentialsForIdentity')).toBe(2);
  });

  it('a request finding credentials with no more than the margin left renews them at once', async () => {
    setup();
    await aws();
    w.daemon.shutdown(); // no renewal ahead: the request must do it
    await w.clock.advance(2800_000);
    expect((await aws()).credentials.accessKeyId).toBe('ASIAFAKE2');
    expect(identity.count('GetCredentialsForIdentity')).toBe(2);
  });

  it('50 concurrent callers needing new credentials make one GetCredentialsForIdentity and one sign-in', async () => {
    setup();
    let open: () => void = () => {};
    identity.gate = new Promise((resolve) => {
      open = resolve;
    });
    const all = Promise.all(Array.from({ length: 50 }, () => aws()));
    await w.clock.advance(0);
    open();
    const results = await all;
    expect(new Set(results.map((r) => r.credentials.accessKeyId))).toEqual(new Set(['ASIAFAKE1']));
    expect(identity.count('GetCredentialsForIdentity')).toBe(1);
    expect(identity.count('GetId')).toBe(1);
    expect(w.cognito.count('startSignIn')).toBe(1);
  });

  it('50 concurrent callers with expired tokens and credentials: one refresh, one exchange', async () => {
    setup();
    await aws();
    w.daemon.shutdown();
    await w.clock.advance(4000_000);
    const results = await Promise.all(Array.from({ length: 50 }, () => aws()));
    expect(new Set(results.map((r) => r.credentials.accessKeyId))).toEqual(new Set(['ASIAFAKE2']));
    expect(w.cognito.count('GetTokensFromRefreshToken')).toBe(1);
    expect(w.cognito.count('startSignIn')).toBe(1);
    expect(identity.count('GetCredentialsForIdentity')).toBe(2);
  });

  it('an IdentityId the pool forgot is dropped and fetched again, once', async () => {
    setup();
    await aws();
    identity.known.clear();
    await w.clock.advance(2700_000);
    expect(identity.calls).toEqual([
      'GetId',
      'GetCredentialsForIdentity eu-west-1:identity-1',
      'GetCredentialsForIdentity eu-west-1:identity-1',
      'GetId',
      'GetCredentialsForIdentity eu-west-1:identity-2',
    ]);
    expect(w.store.loadAwsCredentials('dev', JSON.stringify(storedIdentity()))?.identityId).toBe(
      'eu-west-1:identity-2',
    );
  });

  it('a failed renewal for network reasons is tried again a minute later while the credentials last', async () => {
    setup();
    await aws();
    identity.failNext = new CognitoCallError('TimeoutError', 'transient', 'TimeoutError: late');
    await w.clock.advance(2700_000);
    expect(identity.count('GetCredentialsForIdentity')).toBe(2);
    await w.clock.advance(59_000);
    expect(identity.count('GetCredentialsForIdentity')).toBe(2);
    await w.clock.advance(1_000);
    expect(identity.count('GetCredentialsForIdentity')).toBe(3);
    expect((await aws()).credentials.accessKeyId).toBe('ASIAFAKE2');
    expect(identity.count('GetCredentialsForIdentity')).toBe(3);
  });

  it('a caller that can answer nothing, when a sign-in is needed, fails with needs-sign-in before any identity-pool call', async () => {
    setup();
    await aws();
    await w.daemon.logout('dev', { local: true });
    expect(await aws(asker(false)).catch((e: { code?: string }) => e.code)).toBe('needs-sign-in');
    expect(identity.count('GetCredentialsForIdentity')).toBe(1);
  });

  it('Cognito Identity unreachable while the credentials held still work: they are handed out with a warning', async () => {
    setup();
    await aws();
    w.daemon.shutdown();
    await w.clock.advance(3000_000);
    identity.failNext = new CognitoCallError(
      'TooManyRequestsException',
      'transient',
      'TooManyRequestsException: slow down',
    );
    const r = await aws();
    expect(r.credentials.accessKeyId).toBe('ASIAFAKE1');
    expect(r.warnings).toEqual([
      'profile dev: renewing AWS credentials failed (TooManyRequestsException: slow down); handing out the ones held, valid for 600 s',
    ]);
    // Once they have expired, the failure is the answer.
    await w.clock.advance(600_000);
    identity.failNext = new CognitoCallError('NetworkingError', 'transient', 'NetworkingError: ECONNREFUSED');
    await expect(aws()).rejects.toMatchObject({
      code: 'unreachable',
      message: expect.stringMatching(/^profile dev: cannot reach Cognito Identity/),
    });
  });

  it('logout forgets the credentials and the IdentityId; status shows the expiry, never the keys', async () => {
    setup();
    const { credentials } = await aws();
    const line = statusOf(w);
    expect(line.awsCredentialsExpiresAt).toBe(credentials.expiresAt);
    const shown = JSON.stringify(w.daemon.status());
    for (const secret of [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken])
      expect(shown).not.toContain(secret);
    await w.daemon.logout('dev');
    expect(statusOf(w).awsCredentialsExpiresAt).toBeUndefined();
    expect(w.store.loadAwsCredentials('dev', JSON.stringify(storedIdentity()))).toBeUndefined();
    await aws();
    expect(identity.count('GetId')).toBe(2);
    expect(w.cognito.count('startSignIn')).toBe(2);
  });

  it('a profile re-pointed at another role drops what it held', async () => {
    setup();
    await aws();
    w.configure({ identity_pool_id: POOL, role_arn: 'arn:aws:iam::123456789012:role/Developer' });
    await aws();
    expect(identity.count('GetId')).toBe(2);
    expect(identity.count('GetCredentialsForIdentity')).toBe(2);
  });

  it('a profile without identity_pool_id is a config error naming the key', async () => {
    identity = new FakeIdentity();
    w = world({}, identity);
    await expect(aws()).rejects.toMatchObject({
      code: 'config',
      message: expect.stringMatching(/^profile dev: no identity_pool_id is set.*: add identity_pool_id/),
    });
    expect(identity.calls).toEqual([]);
    expect(w.cognito.calls).toEqual([]);
  });
});

/** The identity the use case stores credentials under, for the unit world's profile. */
function storedIdentity() {
  const user = JSON.stringify(['eu-west-1', 'eu-west-1_Unit', 'unitclient', 'alice', '']);
  return [user, POOL, '', ''];
}
