/**
 * Secrets at rest and in logs. Every CogEnv in the suite is scanned before it is removed (support/cog.ts,
 * support/secret-scan.ts), with the daemon logging at debug level. Here: the scanner is shown to find what
 * it looks for (so a clean scan means something), and one environment goes through every path that handles
 * a secret (SMS MFA with a wrong code, refresh, rejected tokens, a client secret, a wrong password, logout,
 * garbage on the socket) before its files are scanned.
 */
import { appendFileSync, cpSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CogEnv, type RunResult } from './support/cog.js';
import { request } from './support/raw-client.js';
import { scanEnvironment } from './support/secret-scan.js';
import { emulatorSuite } from './support/suite.js';

const CODE = '318642';
const PW = 'S3cret-at-rest!';
const suite = emulatorSuite({ emulator: { code: CODE } });

function good(r: RunResult): string {
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe('secrets at rest and in logs', () => {
  it('every path that touches a secret, at debug level: nothing secret in any file cog-token wrote', async () => {
    const pool = await suite.emu.createPool({ accessTokenSeconds: 8, idTokenSeconds: 8 });
    await suite.emu.createUser(pool, 'alice', PW);
    await suite.emu.enableSmsMfa(pool, 'alice');
    const env = suite.newEnv();
    const clientSecret = 'cl1ent-s3cret-value-for-the-scan';
    env.writeConfig(
      `${CogEnv.profile('dev', suite.emu, pool, 'alice', {
        password_command: env.countingCommand('pw', '$COG_TEST_PW'),
        mfa_command: env.countingCommand('mfa', '000000', CODE),
      })}\n${CogEnv.profile('sec', suite.emu, pool, 'alice', {
        password_command: 'printenv COG_TEST_PW',
        mfa_command: `echo ${CODE}`,
        client_secret: clientSecret,
      })}\n${CogEnv.profile('bad', suite.emu, pool, 'alice', { password_command: 'printenv COG_WRONG_PW' })}`,
    );
    const pwEnv = { COG_TEST_PW: PW };
    const first = good(await env.run(['get', 'dev'], { env: pwEnv }));
    good(await env.run(['get', 'dev', '--token', 'access']));
    // Short tokens: asking for their whole lifetime (8 s), the next get refreshes (the daemon's timer may too).
    good(await env.run(['get', 'dev', '--min-valid', '8']));
    expect(await request(env.socketFile, { v: 1, op: 'invalidate', profile: 'dev' })).toMatchObject({
      type: 'result',
    });
    expect(good(await env.run(['get', 'dev']))).not.toBe(first);
    good(await env.run(['get', 'sec'], { env: pwEnv }));
    expect((await env.run(['get', 'bad'], { env: { COG_WRONG_PW: 'Wr0ng-password-x' } })).code).not.toBe(0);
    await request(env.socketFile, { v: 1, type: 'answer', id: 1, value: PW }).catch(() => undefined);
    expect(good(await env.run(['status', '--json']))).toContain('"dev"');
    expect((await env.run(['logout', 'dev'])).code).toBe(0);
    good(await env.run(['get', 'dev'], { env: pwEnv }));

    const log = readFileSync(env.logFile, 'utf8');
    expect(log, 'the daemon logged at debug level').toMatch(/ debug /);
    expect(log).toMatch(/signed in/);
    env.noteSecrets(clientSecret, 'Wr0ng-password-x');
    const report = scanEnvironment(env);
    expect(report.files).toBeGreaterThanOrEqual(4);
    expect(report.secrets).toBeGreaterThanOrEqual(10);
    expect(report.hits).toEqual([]);
  }, 120_000);

  it('the scanner finds a token, a signature alone, a password and a code planted in a copy', async () => {
    const pool = await suite.emu.createPool();
    await suite.emu.createUser(pool, 'alice', PW);
    const env = suite.newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', { password_command: 'printenv COG_TEST_PW' }),
    );
    const token = good(await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } }));
    expect(scanEnvironment(env).hits).toEqual([]);

    const copy = mkdtempSync('/tmp/cogt-scan-');
    try {
      cpSync(env.root, copy, { recursive: true, filter: (f) => !lstatSync(f).isSocket() });
      const at = (p: string) => join(copy, p.slice(env.root.length));
      const planted = {
        ...env,
        root: copy,
        configFile: at(env.configFile),
        databaseFile: at(env.databaseFile),
        keyFile: at(env.keyFile),
        secrets: env.secrets,
      };
      appendFileSync(at(env.logFile), `signature ${token.split('.')[2]}\n`);
      writeFileSync(join(copy, 'state', 'cog-token', 'notes'), `pw ${PW} code ${'481516'}\n`);
      env.noteSecrets('481516');
      const hits = scanEnvironment(planted).hits;
      expect(hits).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/daemon\.log: secret/),
          expect.stringMatching(/notes: secret S3cret/),
          expect.stringMatching(/notes: secret 48… \(6 chars\)/),
        ]),
      );
      writeFileSync(join(copy, 'state', 'cog-token', 'notes'), `claims ${token.split('.')[1]}\n`);
      // With no secrets noted at all, the store itself and the JWT shape still give them away.
      expect(scanEnvironment({ ...planted, secrets: new Set() }).hits).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/notes: a JWT segment/),
          expect.stringMatching(/daemon\.log: secret/),
        ]),
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
      env.secrets.delete('481516');
    }
  });
});
