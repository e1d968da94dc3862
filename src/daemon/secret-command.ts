/**
 * Runs client_secret_command in the daemon (refreshes happen with no client around): its stdout, less the
 * line ending, is the secret. Bounded in time and size; the secret stays in memory.
 */
import { spawn } from 'node:child_process';

const timeoutMs = 15_000;
const maxBytes = 16 * 1024;

export function runSecretCommand(command: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, ...env },
      timeout: timeoutMs,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= maxBytes) chunks.push(d);
    });
    child.on('error', (error) => reject(error));
    child.on('close', (code, signal) => {
      if (code !== 0) return reject(new Error(`exited with ${signal ?? `status ${code}`}`));
      if (size > maxBytes) return reject(new Error('printed too much'));
      const out = Buffer.concat(chunks)
        .toString('utf8')
        .replace(/\r?\n$/, '');
      if (!out) return reject(new Error('printed nothing'));
      resolve(out);
    });
  });
}
