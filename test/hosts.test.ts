/**
 * Where tokens may go (issue #10, point 3) and what config keys may hold (point 8), on the parsed config and
 * the matcher itself: https only (plain http to loopback or an explicit `http://` pattern), a port-less
 * pattern means the default port, paths compared after `.`/`..` are resolved, no wildcard over a suffix
 * that many customers share (Public Suffix List), https endpoints, one-line header prefixes. test/git.test.ts
 * drives the same rules through real git and a real daemon.
 */
import { describe, expect, it } from 'vitest';
import { matchProfile } from '../src/client/host-match.js';
import { parseConfig } from '../src/shared/config.js';
import { normalizePath, wildcardOverSharedSuffix } from '../src/shared/host-pattern.js';

const file = '/home/alice/.config/cog-token/config.toml';
const base = `[profiles.dev]
user_pool_id = "us-east-1_AbCdEf"
client_id = "1example23456789"
username = "alice"
`;

/** The error of profile dev, or '' when it loaded. */
function errorOf(extra: string): string {
  const config = parseConfig(`${base}${extra}\n`, file);
  return config.broken.get('dev')?.message ?? '';
}

function who(hosts: string[], protocol: string, host: string, path?: string): string | undefined {
  const r = matchProfile([{ name: 'dev', hosts }], { protocol, host, ...(path ? { path } : {}) });
  return r.kind === 'match' ? r.profile : undefined;
}

describe('tokens only over https', () => {
  it('a listed host over plain http gets nothing; over https it matches', () => {
    expect(who(['api.example.com'], 'https', 'api.example.com')).toBe('dev');
    expect(who(['api.example.com'], 'http', 'api.example.com')).toBeUndefined();
    expect(who(['api.example.com'], '', 'api.example.com')).toBeUndefined();
    expect(who(['api.example.com'], 'ftp', 'api.example.com')).toBeUndefined();
  });

  it('plain http is answered for loopback hosts and for a pattern that says http:// itself, only over http', () => {
    expect(who(['localhost:3000'], 'http', 'localhost:3000')).toBe('dev');
    expect(who(['127.0.0.1:8080'], 'http', '127.0.0.1:8080')).toBe('dev');
    expect(who(['[::1]:8080'], 'http', '[::1]:8080')).toBe('dev');
    expect(who(['http://build.internal'], 'http', 'build.internal')).toBe('dev');
    expect(who(['http://build.internal'], 'https', 'build.internal')).toBeUndefined();
    expect(who(['https://api.example.com'], 'http', 'api.example.com')).toBeUndefined();
  });

  it('a pattern without a port means the default port of the scheme', () => {
    expect(who(['api.example.com'], 'https', 'api.example.com:8443')).toBeUndefined();
    expect(who(['api.example.com'], 'https', 'api.example.com:443')).toBe('dev');
    expect(who(['api.example.com:8443'], 'https', 'api.example.com:8443')).toBe('dev');
    expect(who(['api.example.com:8443'], 'https', 'api.example.com')).toBeUndefined();
    expect(who(['http://build.internal'], 'http', 'build.internal:80')).toBe('dev');
    expect(who(['http://build.internal'], 'http', 'build.internal:8080')).toBeUndefined();
  });

  it('path patterns are matched after . and .. segments (also percent-encoded) are resolved', () => {
    const hosts = ['git.example.com/team-a'];
    expect(who(hosts, 'https', 'git.example.com', 'team-a/repo.git')).toBe('dev');
    expect(who(hosts, 'https', 'git.example.com', 'team-a/../team-b/repo.git')).toBeUndefined();
    expect(who(hosts, 'https', 'git.example.com', 'team-a/%2e%2e/team-b/repo.git')).toBeUndefined();
    expect(who(hosts, 'https', 'git.example.com', 'team-a/%2E./team-b/repo.git')).toBeUndefined();
    expect(who(hosts, 'https', 'git.example.com', 'team-b/../team-a/repo.git')).toBe('dev');
    expect(who(hosts, 'https', 'git.example.com', 'team-a-evil/repo.git')).toBeUndefined();
    expect(normalizePath('/a/./b/../../../c/')).toBe('c');
  });
});

describe('hosts: no wildcard over a shared suffix (Public Suffix List)', () => {
  it.each([
    ['*.execute-api.us-east-1.amazonaws.com', 'execute-api.us-east-1.amazonaws.com'],
    ['*.cloudfront.net', 'cloudfront.net'],
    ['*.github.io', 'github.io'],
    ['*.com', 'com'],
    ['api-*.cloudfront.net', 'cloudfront.net'],
    ['*.co.uk', 'co.uk'],
    ['*', ''],
  ])(
    '%s spans %s: refused at load, naming the file, profile, key and what to write instead',
    (pattern, suffix) => {
      expect(wildcardOverSharedSuffix(pattern)).toEqual({ suffix });
      const message = errorOf(`hosts = ["api.example.com", "https://${pattern}"]`);
      expect(message).toContain(`${file}: profile "dev": key "hosts": "https://${pattern}"`);
      if (suffix) expect(message).toContain(`"${suffix}", a suffix that many customers share`);
      expect(message).toMatch(/list your exact hosts instead, like "[^"*]+"/);
    },
  );

  it.each([
    '*.mycompany.com',
    '*.apps.mycompany.co.uk',
    '*.my-bucket.s3.amazonaws.com',
    'abc123.execute-api.us-east-1.amazonaws.com',
    'd111111abcdef8.cloudfront.net',
  ])('%s stays inside one registrable domain: accepted', (pattern) => {
    expect(wildcardOverSharedSuffix(pattern)).toBeUndefined();
    expect(errorOf(`hosts = ["${pattern}"]`)).toBe('');
  });

  it('the PSL private section is there: execute-api per region and cloudfront.net', async () => {
    const { getPublicSuffix } = await import('tldts');
    expect(getPublicSuffix('x.execute-api.eu-west-1.amazonaws.com', { allowPrivateDomains: true })).toBe(
      'execute-api.eu-west-1.amazonaws.com',
    );
    expect(getPublicSuffix('x.cloudfront.net', { allowPrivateDomains: true })).toBe('cloudfront.net');
  });
});

describe('URLs and values in the config', () => {
  it('an http endpoint for a non-loopback host is refused, naming the file, profile and key', () => {
    expect(errorOf('endpoint = "http://cognito-idp.us-east-1.amazonaws.com"')).toMatch(
      /config\.toml: profile "dev": key "endpoint" = "http:\/\/cognito-idp\.us-east-1\.amazonaws\.com" would carry passwords and tokens in clear \(http\): use an https:\/\/ URL/,
    );
    expect(errorOf('endpoint = "ftp://x"')).toMatch(
      /profile "dev": key "endpoint" = "ftp:\/\/x" is not an https URL/,
    );
    for (const ok of [
      'https://cognito-idp.us-east-1.amazonaws.com',
      'http://127.0.0.1:9229',
      'http://localhost:9229',
      'http://[::1]:9229',
    ]) {
      expect(errorOf(`endpoint = "${ok}"`), ok).toBe('');
    }
  });

  it('a header_prefix holding a newline, CR or another control character is refused', () => {
    for (const bad of ['Bearer\\nX-Evil: 1', 'Bearer\\r', 'Bea\\u0007rer', 'Bearer\\u0085x']) {
      expect(errorOf(`header_prefix = "${bad}"`), bad).toMatch(
        /config\.toml: profile "dev": key "header_prefix" holds a control character .*write it on one line/,
      );
    }
    expect(errorOf('header_prefix = "Bearer"')).toBe('');
  });
});
