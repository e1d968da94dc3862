/**
 * `cog-token git-credential get|store|erase`: a git credential helper (gitcredentials(7)). git writes
 * `key=value` lines on stdin, ended by a blank line or EOF; `get` answers on stdout for the profile whose
 * `hosts` claim the URL (host-match.ts: https only, plain http only to loopback or a pattern that says
 * `http://`). A URL no profile claims gets an empty answer and exit 0, so git moves on to its next helper.
 * stdin belongs to git: questions for a sign-in go to the terminal (/dev/tty, as git's own prompts do), a
 * pinentry, or the profile's commands.
 */
import type { Readable } from 'node:stream';
import type { Config } from '../shared/config.js';
import { CogTokenError, messageOf } from '../shared/errors.js';
import type { TokenKind } from '../shared/protocol.js';
import { matchProfile } from './host-match.js';

/** git's own limit for one line is 65535 bytes; a request is a handful of them. */
const maxRequestBytes = 1024 * 1024;

interface CredentialRequest {
  /** Last value of each single-valued key. */
  fields: Map<string, string>;
  /** `capability[]` values. */
  capabilities: Set<string>;
}

function parseCredentialRequest(text: string): CredentialRequest {
  const fields = new Map<string, string>();
  const capabilities = new Set<string>();
  for (const line of text.split('\n')) {
    const l = line.replace(/\r$/, '');
    if (l === '') break;
    const eq = l.indexOf('=');
    if (eq <= 0) continue;
    const key = l.slice(0, eq);
    const value = l.slice(eq + 1);
    if (key === 'capability[]') capabilities.add(value);
    else if (!key.endsWith('[]')) fields.set(key, value);
  }
  return { fields, capabilities };
}

/** Reads git's request: up to a blank line or EOF (git may keep the pipe open after the blank line). */
export function readCredentialRequest(input: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const done = () => {
      input.off('data', onData);
      input.off('end', done);
      input.off('error', onError);
      input.pause();
      resolve(text);
    };
    const onError = (error: Error) => {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return;
      reject(
        new CogTokenError('usage', {
          problem: `cannot read the request from git: ${messageOf(error)}`,
          remedy: 'run it as git credential helper (git credential fill)',
        }),
      );
    };
    const onData = (data: Buffer) => {
      text += data.toString('utf8');
      if (Buffer.byteLength(text) > maxRequestBytes) {
        input.off('data', onData);
        reject(
          new CogTokenError('usage', {
            problem: 'the credential request on stdin is too long',
            remedy: 'send git credential lines, ended by a blank line',
          }),
        );
        return;
      }
      if (text.startsWith('\n') || text.startsWith('\r\n') || /\r?\n\r?\n/.test(text)) done();
    };
    input.on('data', onData);
    input.once('end', done);
    input.on('error', onError);
  });
}

export interface GitCredentialDeps {
  config: () => Config;
  getToken: (profile: string) => Promise<{ token: string; kind: TokenKind; expiresAt: number }>;
  invalidate: (profile: string) => Promise<void>;
  write: (text: string) => void;
  say: (line: string) => void;
}

function line(key: string, value: string): string {
  // A newline or NUL in a value would forge another key; git refuses such values too.
  if (/[\n\0]/.test(value))
    throw new CogTokenError('internal', { problem: `the ${key} to give git holds a newline` });
  return `${key}=${value}\n`;
}

/** Handles one git-credential invocation; resolves the exit status. */
export async function gitCredential(
  action: string,
  requestText: string,
  deps: GitCredentialDeps,
): Promise<number> {
  // Unknown actions (git may add some) and `store` (the daemon keeps the tokens) are no-ops.
  if (action !== 'get' && action !== 'erase') return 0;
  const request = parseCredentialRequest(requestText);
  const host = request.fields.get('host');
  if (!host) return 0;
  const config = deps.config();
  const profiles = [...config.profiles.values()];
  const match = matchProfile(
    profiles.map((p) => ({ name: p.name, hosts: p.hosts })),
    {
      protocol: request.fields.get('protocol') ?? '',
      host,
      ...(request.fields.has('path') ? { path: request.fields.get('path') as string } : {}),
    },
  );
  if (match.kind === 'none') {
    if (action !== 'get') return 0;
    const first = match.needPath[0];
    if (first) {
      deps.say(
        `profile ${first.profile} claims ${first.pattern} but git sent no path: run git config --global credential.useHttpPath true`,
      );
    }
    // A profile refused at load (say, a hosts wildcard over a shared suffix) claims nothing: say why, or
    // git's failure would point nowhere.
    for (const error of config.broken.values()) deps.say(error.message);
    return 0;
  }
  const profile = config.profiles.get(match.profile);
  if (!profile) return 0;
  if (action === 'erase') {
    // git erases a credential the server rejected: drop the cached tokens so the next get refreshes.
    await deps.invalidate(profile.name);
    return 0;
  }
  const t = await deps.getToken(profile.name);
  let out = '';
  if (request.capabilities.has('authtype')) {
    // git 2.46+: a bearer credential git sends as "Authorization: Bearer <token>" and never stores.
    out += line('capability[]', 'authtype');
    out += line('authtype', 'Bearer');
    out += line('credential', t.token);
    out += line('ephemeral', '1');
  } else {
    out += line('username', request.fields.get('username') || profile.username || profile.name);
    out += line('password', t.token);
    out += line('password_expiry_utc', String(t.expiresAt));
  }
  deps.write(out);
  return 0;
}
