/**
 * Challenges that need a person, answered at a real terminal (tmux) against the Cognito test double:
 * MFA_SETUP (an otpauth URI and QR code on screen, then a real TOTP code), NEW_PASSWORD_REQUIRED (asked twice,
 * plus a required attribute) and SELECT_MFA_TYPE.
 */
import * as OTPAuth from 'otpauth';
import { describe, expect, it } from 'vitest';
import { CognitoDouble, type DoubleOptions, type DoubleUser } from './double/cognito-double.js';
import { cli } from './support/cog.js';
import { Cleanups } from './support/suite.js';
import { Tmux } from './support/tmux.js';

const PW = 'Term-Passw0rd!';
const cleanups = new Cleanups();

async function atTerminal(options: DoubleOptions, user: DoubleUser, extra = '') {
  const double = await CognitoDouble.start(options);
  cleanups.push(() => double.stop());
  double.addUser(user);
  const env = cleanups.newEnv();
  env.writeConfig(
    `[profiles.dev]\nuser_pool_id = "${double.poolId}"\nclient_id = "${double.clientId}"\nusername = "${user.username}"\nendpoint = "${double.endpoint}"\n${extra}`,
  );
  const tmux = await Tmux.start(`T=$('${process.execPath}' '${cli}' get dev); echo "rc=$? len=\${#T}"`, {
    env: env.env,
    width: 120,
    height: 60,
  });
  cleanups.push(() => tmux.kill());
  await tmux.waitFor(/Password for .*\(cog-token profile dev\): ?$/m);
  await tmux.type(user.password);
  await tmux.enter();
  return { double, env, tmux };
}

describe('challenges at the terminal', () => {
  it('MFA_SETUP: shows the otpauth URI and a QR code, verifies the first TOTP code', async () => {
    const { double, tmux } = await atTerminal(
      {},
      { username: 'alice', password: PW, mfaSetupRequired: true },
    );
    const screen = await tmux.waitFor(/First code from the authenticator app.*: ?$/m);
    const secret = /otpauth:\/\/totp\/[^?\s]+\?secret=([A-Z2-7]+)/.exec(screen)?.[1];
    expect(secret).toBeTruthy();
    expect(screen).toMatch(/[▀▄█]{10,}/); // the QR code, drawn with block characters
    await tmux.type(new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret as string) }).generate());
    await tmux.enter();
    const done = await tmux.waitFor(/rc=\d+ len=\d+/);
    expect(done).toMatch(/rc=0 len=[1-9]\d+/);
    expect(double.user('alice')?.mfa?.totpSecret).toBe(secret);
  });

  it('NEW_PASSWORD_REQUIRED: the new password twice (a mismatch is asked again), then a required attribute', async () => {
    const { double, tmux } = await atTerminal(
      { requiredAttributes: ['name'] },
      { username: 'alice', password: PW, forceNewPassword: true },
    );
    await tmux.waitFor(/requires a new password .*New password: ?$/m);
    await tmux.type('Brand-New-1!');
    await tmux.enter();
    await tmux.waitFor(/Repeat the new password: ?$/m);
    await tmux.type('Typo-New-1!');
    await tmux.enter();
    await tmux.waitFor(/did not match/);
    await tmux.waitFor(/New password: ?$/m);
    await tmux.type('Brand-New-1!');
    await tmux.enter();
    await tmux.waitFor(/Repeat the new password: ?$/m);
    await tmux.type('Brand-New-1!');
    await tmux.enter();
    await tmux.waitFor(/attribute "name".*: ?$/m);
    await tmux.type('Alice Liddell');
    await tmux.enter();
    const done = await tmux.waitFor(/rc=\d+ len=\d+/);
    expect(done).toMatch(/rc=0 len=[1-9]\d+/);
    expect(done).not.toContain('Brand-New-1!');
    expect(double.user('alice')).toMatchObject({
      password: 'Brand-New-1!',
      attributes: expect.objectContaining({ name: 'Alice Liddell' }),
    });
  });

  it('SELECT_MFA_TYPE: the user picks from a numbered list', async () => {
    const { double, tmux } = await atTerminal(
      { code: '246810' },
      {
        username: 'alice',
        password: PW,
        mfa: { sms: true, email: true },
        attributes: { phone_number: '+15550100123', email: 'a@example.com' },
      },
    );
    const screen = await tmux.waitFor(/Choose 1-\d: ?$/m);
    const lines = screen.split('\n');
    const emailChoice = lines.find((l) => /^\s+\d\) EMAIL_OTP/.test(l))?.trim()[0];
    expect(emailChoice).toBeTruthy();
    await tmux.type(emailChoice as string);
    await tmux.enter();
    await tmux.waitFor(/Email code sent to .*: ?$/m);
    await tmux.type('246810');
    await tmux.enter();
    expect(await tmux.waitFor(/rc=\d+ len=\d+/)).toMatch(/rc=0 len=[1-9]\d+/);
    expect(double.codes.at(-1)?.medium).toBe('EMAIL');
  });
});
