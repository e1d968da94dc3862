/**
 * The terminal prompt module on a real terminal (tmux): prompts go to /dev/tty even inside `$(...)`,
 * secrets are not echoed, line editing works, Ctrl-C cancels and leaves the terminal usable, and a
 * process without a controlling terminal gets null. Expects `dist/` to be built (npm test runs tsc first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Tmux } from './support/tmux.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixture = 'test/fixtures/ask-terminal.mjs';
const node = `'${process.execPath.replaceAll("'", `'\\''`)}'`;
/** Exit statuses of the fixture. */
const NO_TERMINAL = 40;
const CANCELLED = 41;

/** Runs the fixture the way `$(cog-token get dev)` would: stdout captured, stdin not the terminal. */
const captured = `T=$(${node} ${fixture} </dev/null); echo "rc=$? len=\${#T} val=[$T]"`;

let tmux: Tmux | undefined;

async function start(command: string): Promise<Tmux> {
  tmux = await Tmux.start(command, { cwd: root });
  return tmux;
}

beforeAll(() => {
  if (!existsSync(new URL('../dist/client/answers.js', import.meta.url))) {
    throw new Error('dist/client/answers.js is missing: build first (npm run build)');
  }
});

afterEach(async () => {
  await tmux?.kill();
  tmux = undefined;
});

describe('openTerminal on a real terminal', () => {
  it('asks on the terminal, hides the secret, echoes the code, and prints only the answers on stdout', async () => {
    const t = await start(captured);
    await t.waitFor(/^Password: ?$/m);
    // Backspace (0x7f) deletes one character, also a multi-byte one; arrow keys are ignored.
    await t.type('s3cr3t-abx');
    await t.keys('BSpace');
    await t.type('cé😀');
    await t.keys('BSpace', 'Left');
    await t.type('!');
    await t.enter();

    let screen = await t.waitFor(/^Code: ?$/m);
    expect(screen).not.toContain('s3cr3t');
    expect(screen).toMatch(/^Password: ?$/m);

    // Visible input is echoed; Ctrl-H erases on screen too; Ctrl-U clears the line.
    await t.type('12x');
    await t.keys('C-h');
    await t.type('3');
    await t.waitFor(/^Code: 123$/m);
    await t.keys('C-u');
    await t.waitFor(/^Code: *$/m);
    await t.type('654321');
    await t.waitFor(/^Code: 654321$/m);
    await t.enter();

    screen = await t.waitFor(/rc=\d+ len=\d+ val=\[/);
    expect(screen).toContain('Thanks, signing in.');
    expect(screen).toContain('rc=0 len=19 val=[s3cr3t-abcé!:654321]');
    // The secret shows up only where the shell printed the captured variable.
    expect(screen.split('s3cr3t').length - 1).toBe(1);
  });

  it('takes answers typed ahead in one burst (several keys per read)', async () => {
    const t = await start(captured);
    await t.waitFor(/^Password: ?$/m);
    await t.type('fast-pw\r777\r');
    const screen = await t.waitFor(/rc=\d+ len=\d+ val=\[/);
    expect(screen).toContain('rc=0 len=11 val=[fast-pw:777]');
    expect(screen).not.toMatch(/Password: .*fast-pw/);
  });

  it('cancels on Ctrl-C during the secret prompt and leaves the terminal in cooked mode with echo', async () => {
    const modes = `stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(isig|icanon|echo)' | tr '\\n' ' '`;
    const t = await start(`${captured}; echo "mode=[$(${modes})]"; read -r LINE; echo "line=[$LINE]"`);
    await t.waitFor(/^Password: ?$/m);
    await t.type('abc');
    await t.keys('C-c');

    const screen = await t.waitFor(/mode=\[.*\]/);
    expect(screen).toContain(`rc=${CANCELLED} len=0 val=[]`);
    expect(screen).toContain('Cancelled.');
    expect(screen).not.toContain('abc');
    expect(screen).toContain('mode=[isig icanon echo ]');

    // The shell's `read` now runs on a cooked terminal: typed text is echoed by the terminal itself.
    await t.type('still-visible');
    await t.waitFor('still-visible');
    await t.enter();
    await t.waitFor('line=[still-visible]');
  });

  it('cancels on Ctrl-D on an empty line', async () => {
    const t = await start(captured);
    await t.waitFor(/^Password: ?$/m);
    await t.type('pw');
    await t.enter();
    await t.waitFor(/^Code: ?$/m);
    await t.keys('C-d');
    const screen = await t.waitFor(/rc=\d+ len=\d+ val=\[/);
    expect(screen).toContain(`rc=${CANCELLED} len=0 val=[]`);
  });
});

describe('openTerminal without a controlling terminal', () => {
  it('returns null (no throw) under setsid with stdin from /dev/null', () => {
    const result = spawnSync('setsid', ['-w', process.execPath, fixture], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.error).toBeUndefined();
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({
      status: NO_TERMINAL,
      stdout: 'NO_TERMINAL\n',
      stderr: '',
    });
  });
});
