/**
 * Answering the daemon's questions in the asking client: run the profile's password_command / mfa_command
 * (in this client's environment and working directory), or ask on the terminal (/dev/tty, never stdout).
 */
import { spawn } from 'node:child_process';
import { type Abilities, type Answer, type Ask, protocolVersion } from '../shared/protocol.js';
import { hasTerminal } from './abilities.js';
import { openTerminal, PromptCancelled, type Terminal } from './terminal.js';

export { hasTerminal };

const maxCommandOutput = 64 * 1024;

function runCommand(
  command: string,
  ask: Ask,
): Promise<{ ok: true; output: string } | { ok: false; why: string }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      stdio: ['inherit', 'pipe', 'inherit'],
      env: {
        ...process.env,
        COG_TOKEN_PROFILE: ask.profile,
        COG_TOKEN_CHALLENGE: ask.challenge ?? 'PASSWORD',
      },
    });
    const chunks: Buffer[] = [];
    let size = 0;
    child.stdout.on('data', (data: Buffer) => {
      size += data.length;
      if (size <= maxCommandOutput) chunks.push(data);
    });
    child.on('error', (error) => resolve({ ok: false, why: `could not run (${error.message})` }));
    child.on('close', (code, signal) => {
      if (code !== 0) return resolve({ ok: false, why: `exited with ${signal ?? `status ${code}`}` });
      if (size > maxCommandOutput) return resolve({ ok: false, why: 'printed more than 64 KiB' });
      // Only the line ending goes: a password may begin or end with spaces.
      const output = Buffer.concat(chunks)
        .toString('utf8')
        .replace(/\r?\n$/, '');
      if (output === '') return resolve({ ok: false, why: 'printed nothing' });
      resolve({ ok: true, output });
    });
  });
}

/** Asks one question on the terminal, in the form its kind needs. */
async function askOnTerminal(terminal: Terminal, ask: Ask): Promise<string> {
  if (ask.display) terminal.say(ask.display);
  if (ask.retryReason) terminal.say(ask.retryReason);
  switch (ask.question) {
    case 'password':
      return terminal.ask(ask.prompt, { secret: true });
    case 'new-password':
      for (let attempt = 1; ; attempt++) {
        const first = await terminal.ask(ask.prompt, { secret: true });
        const second = await terminal.ask('Repeat the new password: ', { secret: true });
        if (first === second && first !== '') return first;
        if (attempt >= 3) throw new PromptCancelled('the passwords did not match');
        terminal.say(first === '' ? 'The password may not be empty.' : 'The passwords did not match; again.');
      }
    case 'select': {
      const choices = ask.choices ?? [];
      terminal.say(ask.prompt);
      choices.forEach((c, i) => {
        terminal.say(`  ${i + 1}) ${c}`);
      });
      for (;;) {
        const reply = (await terminal.ask(`Choose 1-${choices.length}: `)).trim();
        const picked =
          choices[Number(reply) - 1] ?? choices.find((c) => c.toLowerCase() === reply.toLowerCase());
        if (picked) return picked;
        terminal.say(`Type a number from 1 to ${choices.length}.`);
      }
    }
    default:
      return terminal.ask(ask.prompt);
  }
}

export class Answerer {
  readonly abilities: Abilities;
  private terminal: Terminal | null | undefined;

  /** `terminal`: whether there is a controlling terminal, when the caller has already looked. */
  constructor(options: { noInput: boolean; terminal?: boolean }) {
    this.abilities = options.noInput
      ? { tty: false, commands: false }
      : { tty: options.terminal ?? hasTerminal(), commands: true };
  }

  async answer(ask: Ask): Promise<Answer> {
    const base = { v: protocolVersion, type: 'answer' as const, id: ask.id };
    const name = ask.question === 'password' ? 'password_command' : 'mfa_command';
    if (ask.command && this.abilities.commands) {
      const r = await runCommand(ask.command, ask);
      if (r.ok) return { ...base, value: r.output };
      return { ...base, error: 'command-failed', message: `${name} (${ask.command}) ${r.why}` };
    }
    if (this.abilities.tty) {
      this.terminal ??= openTerminal();
      if (this.terminal) {
        try {
          return { ...base, value: await askOnTerminal(this.terminal, ask) };
        } catch (error) {
          if (error instanceof PromptCancelled)
            return { ...base, error: 'cancelled', message: 'cancelled at the prompt' };
          throw error;
        }
      }
    }
    return { ...base, error: 'no-input', message: 'no terminal and no command' };
  }

  close(): void {
    this.terminal?.close();
    this.terminal = undefined;
  }
}
