/**
 * The browser sign-in (managed login, authorization code + PKCE) for auth_flow "BROWSER": a random `state`
 * and PKCE verifier; a one-shot HTTP listener on the redirect URI's loopback address and port; a `browser`
 * question that has the asking client open the sign-in page (it builds the URL from its own config and the
 * question's state and S256 challenge: no URL crosses the socket) and, on a terminal, take the redirected
 * URL pasted back. Whichever of the listener and the paste brings a redirect first wins; it is checked
 * (path, state, `error=`), and its code is redeemed at the token endpoint with the verifier. The listener
 * answers only its path, takes exactly one completed redirect, and is closed on every way out (done,
 * refused, timed out), freeing its port.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { BrowserProfile } from '../../shared/config.js';
import { CogTokenError } from '../../shared/errors.js';
import { checkRedirect, type RedirectOutcome } from '../../shared/managed-login.js';
import type { Clock, Timer } from '../clock.js';
import { cognitoError } from '../cognito-errors.js';
import type { AuthResult } from '../cognito-gateway.js';
import { log } from '../log.js';
import type { ManagedLoginGateway } from '../managed-login-gateway.js';
import type { SignInContext } from './context.js';

/** How long a browser sign-in may take unless the request's --timeout is shorter (an authorization code lives 5 minutes). */
export const browserSignInSeconds = 300;

export interface BrowserSignInContext {
  p: BrowserProfile;
  managedLogin: ManagedLoginGateway;
  questioner: SignInContext['questioner'];
  clock: Clock;
  clientSecret?: string;
  /** Seconds the sign-in may take: browserSignInSeconds, or the request's --timeout when shorter. */
  timeoutSeconds: number;
}

/** The page the browser shows once it is back: what happened, never a code or a token. */
type Reply = (ok: boolean, text: string) => void;

interface Redirect {
  outcome: RedirectOutcome;
  /** Answers the browser (the listener's request); a no-op for a pasted URL. */
  reply: Reply;
}

export async function browserSignIn(ctx: BrowserSignInContext): Promise<AuthResult> {
  const { p } = ctx;
  const state = randomBytes(32).toString('base64url');
  const verifier = randomBytes(32).toString('base64url');
  const codeChallenge = createHash('sha256').update(verifier).digest('base64url');
  const listener = await RedirectListener.open(p, state);
  let timer: Timer | undefined;
  let redirect: Redirect | undefined;
  try {
    redirect = await new Promise<Redirect>((resolve, reject) => {
      listener.onRedirect = resolve;
      timer = ctx.clock.setTimer(() => reject(timedOut(ctx)), ctx.timeoutSeconds * 1000);
      const prompt = `Paste the address your browser was sent to (when it could not reach ${p.redirectUri}), then press Enter: `;
      ctx.questioner.ask({ question: 'browser', prompt, state, codeChallenge }).then((value) => {
        // "opened", or an empty line: the listener will hear from the browser.
        if (value.trim() === '' || value.trim() === 'opened') return;
        const outcome = checkRedirect(value, p.redirectUri, state, true);
        if (outcome.kind !== 'not-a-redirect') resolve({ outcome, reply: () => {} });
        else reject(notARedirect(p, outcome.why));
      }, reject);
    });
    listener.stopListening(); // one completed redirect: the port is free again
    const { outcome } = redirect;
    if (outcome.kind === 'wrong-state') {
      redirect.reply(false, 'This sign-in does not belong to the one cog-token is waiting for.');
      throw new CogTokenError('auth-rejected', {
        profile: p.name,
        problem: `the redirect to ${p.redirectUri} carried another sign-in's state (a stale tab, or forged)`,
        remedy: `run: cog-token login ${p.name}, and finish in the browser tab it opens`,
      });
    }
    if (outcome.kind === 'error') {
      redirect.reply(false, 'The sign-in was not completed.');
      const description = outcome.description ? ` (${outcome.description})` : '';
      throw new CogTokenError('auth-rejected', {
        profile: p.name,
        problem: `the sign-in page answered error=${outcome.error}${description}`,
        remedy: `run: cog-token login ${p.name}, and sign in (or check the identity provider and the app client's settings)`,
      });
    }
    if (outcome.kind !== 'code') throw new Error('unreachable');
    let result: AuthResult;
    try {
      result = await ctx.managedLogin.exchangeCode(p, {
        code: outcome.code,
        verifier,
        redirectUri: p.redirectUri,
        ...(ctx.clientSecret ? { clientSecret: ctx.clientSecret } : {}),
      });
    } catch (error) {
      redirect.reply(false, 'The sign-in could not be completed; cog-token says why where you ran it.');
      throw cognitoError(p, 'sign-in', error);
    }
    redirect.reply(true, `Signed in to cog-token profile ${p.name}. You can close this tab.`);
    return result;
  } finally {
    ctx.clock.clearTimer(timer);
    listener.close();
  }
}

function timedOut(ctx: BrowserSignInContext): CogTokenError {
  const { p, timeoutSeconds } = ctx;
  return new CogTokenError('needs-sign-in', {
    profile: p.name,
    problem: `the browser sign-in did not finish within ${timeoutSeconds} s; cog-token stopped listening on ${p.redirectUri}`,
    remedy: `run: cog-token login ${p.name}, and finish signing in in the browser within ${browserSignInSeconds} s`,
  });
}

function notARedirect(p: BrowserProfile, why: string): CogTokenError {
  return new CogTokenError('auth-rejected', {
    profile: p.name,
    problem: `the address pasted is not the redirect to ${p.redirectUri} (${why})`,
    remedy: `run: cog-token login ${p.name}, and paste the whole address from the browser's address bar`,
  });
}

/** The host names a redirect URI may have, and the addresses the listener binds for each. */
function bindAddresses(hostname: string): { address: string; required: boolean }[] {
  if (hostname === '127.0.0.1') return [{ address: '127.0.0.1', required: true }];
  if (hostname === '[::1]') return [{ address: '::1', required: true }];
  // localhost: a browser may try either family; both are ours, so nobody else can take the other one.
  return [
    { address: '127.0.0.1', required: true },
    { address: '::1', required: false },
  ];
}

/** A one-shot loopback HTTP listener for the redirect URI: its path only, one completed redirect. */
class RedirectListener {
  onRedirect: (redirect: Redirect) => void = () => {};
  private completed = false;
  private closed = false;

  private constructor(
    private readonly servers: Server[],
    private readonly path: string,
    private readonly redirectUri: string,
    private readonly state: string,
  ) {
    for (const server of servers) server.on('request', (req, res) => this.serve(req, res));
  }

  static async open(p: BrowserProfile, state: string): Promise<RedirectListener> {
    const url = new URL(p.redirectUri);
    const port = Number(url.port || 80);
    const servers: Server[] = [];
    try {
      for (const { address, required } of bindAddresses(url.hostname)) {
        const server = createServer();
        server.keepAliveTimeout = 1000;
        try {
          await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            // exclusive: no sharing of the port with a cluster; Node never sets SO_REUSEPORT on it.
            server.listen({ host: address, port, exclusive: true }, () => resolve());
          });
          servers.push(server);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (!required && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) continue; // no IPv6 here
          throw listenError(p, address, port, code);
        }
      }
    } catch (error) {
      for (const server of servers) server.close();
      throw error;
    }
    log.debug(`profile ${p.name}: listening for the browser on ${p.redirectUri}`);
    return new RedirectListener(servers, url.pathname || '/', p.redirectUri, state);
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://listener.invalid');
    if (url.pathname !== this.path || req.method !== 'GET' || this.completed) {
      page(res, 404, 'Not found', 'Nothing here.');
      return;
    }
    const outcome = checkRedirect(req.url ?? '/', this.redirectUri, this.state, false);
    if (outcome.kind === 'not-a-redirect') {
      page(res, 400, 'Not a sign-in', 'This address holds no sign-in to finish.');
      return;
    }
    this.completed = true;
    this.onRedirect({
      outcome,
      reply: (ok, text) => page(res, ok ? 200 : 400, ok ? 'Signed in' : 'Sign-in failed', text),
    });
  }

  /** Frees the port; the connection of the redirect stays open for its answer. */
  stopListening(): void {
    for (const server of this.servers) if (server.listening) server.close();
  }

  /** Stops listening and ends every connection (the answer to the redirect has been sent by now). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopListening();
    for (const server of this.servers) {
      server.closeIdleConnections();
      // A browser that holds a connection open must not hold the port: end it shortly.
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    }
  }
}

function listenError(p: BrowserProfile, address: string, port: number, code: string | undefined) {
  if (code === 'EADDRINUSE') {
    return new CogTokenError('config', {
      profile: p.name,
      problem: `cannot listen for the browser on ${p.redirectUri}: port ${port} on ${address} is in use by another program`,
      remedy: `stop that program, or set redirect_uri to another free loopback port (registered on the app client too), then run: cog-token login ${p.name}`,
    });
  }
  return new CogTokenError('config', {
    profile: p.name,
    problem: `cannot listen for the browser on ${p.redirectUri} (${address} port ${port}: ${code ?? 'failed'})`,
    remedy: `set redirect_uri to a loopback address with a port above 1024, registered on the app client, then run: cog-token login ${p.name}`,
  });
}

function page(res: ServerResponse, status: number, title: string, text: string): void {
  if (res.writableEnded) return;
  const body = `<!doctype html><meta charset="utf-8"><title>${title}</title><h1>${title}</h1><p>${text.replace(/[<>&"]/g, '')}</p>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    connection: 'close',
  });
  res.end(body);
}
