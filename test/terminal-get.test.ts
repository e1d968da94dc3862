/**
 * A person at a real terminal (tmux): `T=$(cog-token get dev)` asks for the password and the SMS code on
 * the terminal, and only the token lands in T.
 */
import { describe, expect, it } from 'vitest';
import { ExitStatus } from '../src/shared/errors.js';
import { CogEnv, cli } from './support/cog.js';
import { Cleanups, emulatorSuite } from './support/suite.js';
import { Tmux } from './support/tmux.js';

const CODE = '424242';
const PW = 'Terminal-Pa55!';

const suite = emulatorSuite({ emulator: { code: CODE } });
const cleanups = new Cleanups();

async function setup(): Promise<{ env: CogEnv; tmux: Tmux }> {
  const pool = await suite.emu.createPool();
  await suite.emu.createUser(pool, 'alice', PW);
  await suite.emu.enableSmsMfa(pool, 'alice');
  const env = cleanups.newEnv();
  env.writeConfig(CogEnv.profile('dev', suite.emu, pool, 'alice'));
  const tmux = await Tmux.start(
    `T=$('${process.execPath}' '${cli}' get dev); echo "rc=$? len=\${#T} head=\${T:0:3}"`,
    { env: env.env },
  );
  cleanups.push(() => tmux.kill());
  return { env, tmux };
}

describe('terminal prompts', () => {
  it('T=$(cog-token get dev) asks on the terminal and captures only the token', async () => {
    const { env, tmux } = await setup();
    await tmux.waitFor(/Password for alice \(cog-token profile dev\): ?$/m);
    await tmux.type(PW);
    await tmux.enter();
    await tmux.waitFor(/SMS code sent to .*\(cog-token profile dev\): ?$/m);
    // A wrong code is asked again, on the same terminal.
    await tmux.type('000000');
    await tmux.enter();
    await tmux.waitFor(/That code was wrong \(attempt 1 of 3\)\.\n.*SMS code sent to/);
    await tmux.type(CODE);
    await tmux.enter();
    const screen = await tmux.waitFor(/rc=\d+ len=\d+ head=/);
    const token = (await env.run(['get', 'dev', '--no-input'])).stdout.trim();
    expect(token).toMatch(/^eyJ/);
    expect(screen).toContain(`rc=0 len=${token.length} head=eyJ`);
    expect(screen).not.toContain(PW);
    expect(screen).not.toContain(token.slice(0, 20));
  });

  it('Ctrl-C at the password prompt cancels the sign-in with its exit status', async () => {
    const { tmux } = await setup();
    await tmux.waitFor(/Password for alice/);
    await tmux.type('half');
    await tmux.keys('C-c');
    const screen = await tmux.waitFor(/rc=\d+ len=\d+/);
    expect(screen).toContain(`rc=${ExitStatus.needsSignIn} len=0`);
    expect(screen).toMatch(/cog-token: profile dev: sign-in cancelled: run: cog-token login dev/);
  });
});
