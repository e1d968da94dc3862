/**
 * Issue 13: `cog-token configure` for a BROWSER profile (managed login): from flags, and on a real terminal
 * (tmux), it asks for the app client, the pool's domain and the redirect URI, and no pool or user.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/shared/config.js';
import { ExitStatus } from '../src/shared/errors.js';
import { cli } from './support/cog.js';
import { Cleanups } from './support/suite.js';
import { Tmux } from './support/tmux.js';

const cleanups = new Cleanups();
const domain = 'https://myapp.auth.eu-west-1.amazoncognito.com';

describe('configure a BROWSER profile', () => {
  it('from flags: domain, client and provider; no pool, region or user', async () => {
    const env = cleanups.newEnv();
    const r = await env.run([
      'configure',
      'web',
      '--no-input',
      '--auth-flow',
      'BROWSER',
      '--domain',
      domain,
      '--client-id',
      '1example23456789',
      '--identity-provider',
      'Google',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /profile web added to .* \(domain https:\/\/myapp\.auth\.eu-west-1\.amazoncognito\.com, BROWSER\)/,
    );
    const text = readFileSync(env.configFile, 'utf8');
    expect(text).toBe(
      `[profiles.web]\nclient_id = "1example23456789"\nauth_flow = "BROWSER"\ndomain = "${domain}"\nidentity_provider = "Google"\n`,
    );
    const p = parseConfig(text, env.configFile).profiles.get('web');
    expect(p).toMatchObject({ authFlow: 'BROWSER', domain, redirectUri: 'http://localhost:8400/callback' });
  });

  it('without a terminal, a missing domain is named as the flag to give', async () => {
    const env = cleanups.newEnv();
    const r = await env.run(['configure', 'web', '--auth-flow', 'BROWSER', '--client-id', 'abc']);
    expect(r.code).toBe(ExitStatus.usage);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/configure web: give --domain \(there is no terminal to ask on\)/);
  });

  it('on a terminal: asks for the client, the domain and the redirect URI', async () => {
    const env = cleanups.newEnv();
    const tmux = await Tmux.start(
      `'${process.execPath}' '${cli}' configure web --auth-flow BROWSER; echo "rc=$?"`,
      { env: env.env },
    );
    cleanups.push(() => tmux.kill());
    await tmux.waitFor(/App client ID: ?$/m);
    await tmux.type('1example23456789');
    await tmux.enter();
    await tmux.waitFor(/User pool domain \(https:\/\/\.\.\.\): ?$/m);
    await tmux.type('http://example.com');
    await tmux.enter();
    // Plain http to another machine is refused at once (codes and tokens go there).
    await tmux.waitFor(/domain = "http:\/\/example.com" would carry codes and tokens in clear/);
    await tmux.type(domain);
    await tmux.enter();
    await tmux.waitFor(
      /Redirect URI \(registered on the app client\) \[http:\/\/localhost:8400\/callback\]: ?$/m,
    );
    await tmux.type('http://127.0.0.1:9100/cb');
    await tmux.enter();
    const screen = await tmux.waitFor(/rc=\d+/);
    expect(screen).toContain('rc=0');
    expect(screen).not.toMatch(/User pool ID|Username/);
    const p = parseConfig(readFileSync(env.configFile, 'utf8'), env.configFile).profiles.get('web');
    expect(p).toMatchObject({ authFlow: 'BROWSER', domain, redirectUri: 'http://127.0.0.1:9100/cb' });
  });
});
