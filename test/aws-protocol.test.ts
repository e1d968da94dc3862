/** The aws-credentials op on the wire (issue 14): what the daemon accepts, and what the client accepts back. */
import { describe, expect, it } from 'vitest';
import { parseDaemonMessage, parseRequest } from '../src/shared/protocol.js';

const ok = {
  v: 1,
  type: 'result',
  op: 'aws-credentials',
  accessKeyId: 'ASIAEXAMPLEEXAMPLE12',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjE+/=',
  expiresAt: 2_000_000_000,
};

describe('the aws-credentials result, as the client checks it', () => {
  it('is rebuilt from its known fields', () => {
    expect(parseDaemonMessage({ ...ok, extra: '$(id)' })).toEqual(ok);
  });

  it.each([
    ['an access key ID with a space', { accessKeyId: 'ASIA EXAMPLE' }],
    ['a secret with a line break', { secretAccessKey: 'abc\nexport X=1' }],
    ['an empty session token', { sessionToken: '' }],
    ['a session token over 16 KiB', { sessionToken: 'a'.repeat(16 * 1024 + 1) }],
    ['a number for a key', { accessKeyId: 12 }],
    ['no expiry', { expiresAt: undefined }],
    ['an expiry RFC 3339 cannot write', { expiresAt: 1e15 }],
  ])('refuses %s', (_name, change) => {
    expect(typeof parseDaemonMessage({ ...ok, ...change })).toBe('string');
  });
});

describe('the aws-credentials request, as the daemon checks it', () => {
  const request = {
    v: 1,
    op: 'aws-credentials',
    profile: 'dev',
    abilities: { tty: true, commands: false },
  };

  it('takes a profile, the abilities and an optional timeout', () => {
    expect(parseRequest(request)).toMatchObject({ op: 'aws-credentials', profile: 'dev' });
    expect(parseRequest({ ...request, timeout: 30 })).toMatchObject({ timeout: 30 });
  });

  it('refuses a bad profile name, missing abilities, or a timeout out of range', () => {
    expect(typeof parseRequest({ ...request, profile: '../x' })).toBe('string');
    expect(typeof parseRequest({ ...request, abilities: undefined })).toBe('string');
    expect(typeof parseRequest({ ...request, timeout: 0 })).toBe('string');
  });
});
