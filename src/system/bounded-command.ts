/**
 * Runs one of the profile's commands (password_command, mfa_command in the client; client_secret_command in
 * the daemon) through /bin/sh: its stdout, less one line ending, is the answer. Bounded in time
 * (command_timeout: then it is killed, with its process group when it has one of its own) and in output.
 * What a failure says never quotes the command, which may inline a secret: only how it ended.
 */
import { spawn } from 'node:child_process';

export type CommandOutcome = { ok: true; output: string } | { ok: false; why: string };

export interface BoundedCommandOptions {
  env: NodeJS.ProcessEnv;
  timeoutSeconds: number;
  maxBytes: number;
  /** 'inherit': the command may read the terminal (a client's); 'ignore' in the daemon. */
  stdin: 'inherit' | 'ignore';
  stderr: 'inherit' | 'ignore';
  /**
   * Run it in a process group of its own, killed whole on timeout. Only where no terminal is shared: a
   * process group of its own is a background job, which the kernel stops when it reads the terminal.
   */
  ownGroup: boolean;
}

export function runBoundedCommand(command: string, options: BoundedCommandOptions): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: CommandOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const child = spawn('/bin/sh', ['-c', command], {
      stdio: [options.stdin, 'pipe', options.stderr],
      env: options.env,
      detached: options.ownGroup,
    });
    const timer = setTimeout(() => {
      try {
        if (options.ownGroup && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // Gone already.
      }
      // A grandchild may still hold stdout open: stop reading, and answer now.
      child.stdout?.destroy();
      settle({ ok: false, why: `timed out after ${options.timeoutSeconds} s` });
    }, options.timeoutSeconds * 1000);
    const chunks: Buffer[] = [];
    let size = 0;
    child.stdout?.on('data', (data: Buffer) => {
      size += data.length;
      if (size <= options.maxBytes) chunks.push(data);
    });
    child.on('error', (error: NodeJS.ErrnoException) =>
      settle({ ok: false, why: `could not be run (${error.code ?? 'error'})` }),
    );
    child.on('close', (code, signal) => {
      if (signal) return settle({ ok: false, why: `was killed by ${signal}` });
      // /bin/sh's own statuses say why without quoting the command: 127 not found, 126 not executable.
      const shell = code === 127 ? ': command not found' : code === 126 ? ': not executable' : '';
      if (code !== 0) return settle({ ok: false, why: `failed (exit ${code}${shell})` });
      if (size > options.maxBytes)
        return settle({ ok: false, why: `printed more than ${Math.round(options.maxBytes / 1024)} KiB` });
      // Only the line ending goes: a password may begin or end with spaces.
      const output = Buffer.concat(chunks)
        .toString('utf8')
        .replace(/\r?\n$/, '');
      if (output === '') return settle({ ok: false, why: 'printed nothing' });
      settle({ ok: true, output });
    });
  });
}
