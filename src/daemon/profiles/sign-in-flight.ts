/**
 * One sign-in per profile at a time: started by the first caller that can answer, joined by the others
 * (each for at most its request's timeout), its questions relayed to the first waiting client able to answer.
 */
import { browserProfile, type ProfileConfig } from '../../shared/config.js';
import { CogTokenError, messageOf } from '../../shared/errors.js';
import type { Abilities, Question } from '../../shared/protocol.js';
import { withDeadline } from '../clock.js';
import type { AuthResult } from '../cognito-gateway.js';
import { log } from '../log.js';
import { browserSignIn, browserSignInSeconds } from '../sign-in/browser.js';
import type { QuestionSpec } from '../sign-in/context.js';
import { signIn } from '../sign-in/srp-and-password.js';
import type { Tokens } from '../token-store.js';
import { commandFix } from './client-secret.js';
import type { SignInFlight } from './state.js';
import type { Parts } from './use-cases.js';

export type AskOutcome =
  | { value: string }
  | { refused: 'no-input' | 'cancelled' | 'command-failed'; message: string }
  | { gone: true };

/** A connected client that may be able to answer a question for a sign-in. */
export interface Asker {
  readonly abilities: Abilities;
  readonly closed: boolean;
  /** Only the question crosses: the client answers from its own config (never a command sent to it). */
  ask(spec: QuestionSpec & { profile: string }): Promise<AskOutcome>;
}

const asked: Record<Question, string> = {
  password: 'the password',
  mfa: 'the MFA code',
  select: 'which MFA to use (or mfa_preference)',
  'new-password': 'a new password',
  attribute: 'a required attribute',
  'mfa-setup': 'an authenticator app setup',
  browser: 'a browser to sign in with',
};

/** The profile key whose command could answer `question`, when one could and the profile sets none. */
function unsetCommandKey(p: ProfileConfig, question: Question): string | undefined {
  if (question === 'password' && p.passwordCommand === undefined) return 'password_command';
  if (question === 'mfa' && p.mfaCommand === undefined) return 'mfa_command';
  return undefined;
}

/**
 * Nobody can answer `question`. Under --no-input (`noInput`) it says what was skipped; it suggests a command
 * only where the profile has none for that question (never one that is already configured).
 */
function nobodyToAsk(
  p: ProfileConfig,
  question: Question,
  noInput: boolean,
  refusal?: string,
): CogTokenError {
  const key = unsetCommandKey(p, question);
  const login = `run: cog-token login ${p.name}`;
  const why = refusal ? ` (${refusal})` : '';
  if (question === 'browser') {
    return new CogTokenError('needs-sign-in', {
      profile: p.name,
      problem: noInput
        ? `--no-input: a sign-in through the browser is needed and no browser was opened${why}`
        : `a sign-in through the browser is needed and this request can open no browser (browser_command, $BROWSER, a desktop session) and has no terminal to paste into${why}`,
      remedy: noInput ? `${login} (or run without --no-input)` : login,
    });
  }
  if (noInput) {
    return new CogTokenError('needs-sign-in', {
      profile: p.name,
      problem: `--no-input: no terminal or pinentry was asked for ${asked[question]}${why}`,
      remedy: key ? `set ${key} or run without --no-input` : `run without --no-input (or ${login})`,
    });
  }
  return new CogTokenError('needs-sign-in', {
    profile: p.name,
    problem: `a sign-in is needed and there is no terminal or pinentry to ask for ${asked[question]}${why}`,
    remedy: key ? `set ${key} or ${login}` : login,
  });
}

/** Whether every client waiting on a sign-in asked with --no-input (then the errors say so). */
function allNoInput(askers: readonly Asker[]): boolean {
  return askers.length > 0 && askers.every((a) => a.abilities.noInput === true);
}

function elsewhere(p: ProfileConfig, problem: string): CogTokenError {
  const remedy = `finish that sign-in, then run this again (or run: cog-token login ${p.name})`;
  return new CogTokenError('needs-sign-in', { profile: p.name, problem, remedy });
}

/** Whether a caller could answer a question: a terminal or pinentry, or its commands when one may answer. */
function canAnswer(asker: Asker, byCommand = true): boolean {
  const a = asker.abilities;
  return a.tty || a.pinentry === true || (a.commands && byCommand);
}

/** Whether a caller could answer a BROWSER profile's one question: open a browser, or take a paste. */
function canOpenBrowser(asker: Asker): boolean {
  return asker.abilities.tty || asker.abilities.browser === true;
}

/** Whether a caller could answer the first question of the profile's sign-in. */
function canStart(p: ProfileConfig, asker: Asker): boolean {
  return p.authFlow === 'BROWSER' ? canOpenBrowser(asker) : canAnswer(asker);
}

/** Only the password and one-time codes can come from a command; the other questions need a person. */
function commandFor(p: ProfileConfig, question: Question): string | undefined {
  if (question === 'password') return p.passwordCommand;
  if (question === 'mfa') return p.mfaCommand;
  return undefined;
}

export class SignIns {
  constructor(private readonly parts: Parts) {}

  /**
   * Starts the profile's sign-in, or joins the one under way. A caller that can answer nothing (`--no-input`,
   * or the client's quick first try) neither starts nor joins one: its first question (the password) would
   * find nobody, so it fails now, before any command or Cognito call.
   */
  run(
    p: ProfileConfig,
    asker: Asker,
    timeoutSeconds: number,
    /** The request's own --timeout, when it gave one: a browser sign-in ends by then. */
    explicitTimeout?: number,
  ): Promise<Tokens> {
    const s = this.parts.profiles.state(p);
    if (s.kind === 'signing-in') {
      // Someone is signing in in a browser: without a --timeout of its own, wait as long as that may take.
      const browserWait = p.authFlow === 'BROWSER' && explicitTimeout === undefined;
      return this.join(s.flight, p, asker, browserWait ? browserSignInSeconds : timeoutSeconds);
    }
    if (!canStart(p, asker)) {
      return Promise.reject(
        nobodyToAsk(p, p.authFlow === 'BROWSER' ? 'browser' : 'password', asker.abilities.noInput === true),
      );
    }
    const flight: SignInFlight = {
      askers: [asker],
      promise: Promise.resolve() as unknown as Promise<Tokens>,
    };
    this.parts.profiles.apply(p, { type: 'sign-in-started', flight });
    flight.promise = this.signIn(p, flight, explicitTimeout);
    return flight.promise;
  }

  private async signIn(p: ProfileConfig, flight: SignInFlight, explicitTimeout?: number): Promise<Tokens> {
    try {
      log.info(`profile ${p.name}: signing in${p.authFlow === 'BROWSER' ? ' through the browser' : ''}`);
      const clientSecret = await this.parts.secrets.get(p);
      const device = p.authFlow === 'BROWSER' ? undefined : this.parts.devices.local(p);
      const questioner = { ask: (spec: QuestionSpec) => this.relay(p, flight, spec) };
      const browser = browserProfile(p);
      const result: AuthResult =
        browser !== undefined
          ? await browserSignIn({
              p: browser,
              managedLogin: this.parts.managedLogin,
              questioner,
              clock: this.parts.clock,
              ...(clientSecret ? { clientSecret } : {}),
              timeoutSeconds: Math.min(browserSignInSeconds, explicitTimeout ?? browserSignInSeconds),
            })
          : await signIn({
              p,
              gateway: this.parts.gateway,
              questioner,
              ...(clientSecret ? { clientSecret } : {}),
              ...(device ? { device } : {}),
              forgetDevice: () => this.parts.store.deleteDevice(p.name),
              now: () => this.parts.clock.now(),
            });
      const tokens = this.parts.profiles.accept(p, result, 'signed-in');
      const onDevice = device && !result.newDevice ? ` on remembered device ${device.deviceKey}` : '';
      log.info(`profile ${p.name}: signed in${onDevice}`);
      if (result.newDevice) await this.parts.devices.remember(p, result.accessToken, result.newDevice);
      return tokens;
    } catch (error) {
      const reason = messageOf(error);
      this.parts.profiles.apply(p, { type: 'sign-in-failed', reason });
      log.warn(`profile ${p.name}: sign-in failed: ${reason}`);
      throw error;
    }
  }

  /**
   * Joins the sign-in under way, for at most `timeoutSeconds` (the request's --timeout): a `login` left at its
   * prompt must not hold every other get of the profile. A caller that can answer nothing fails at once: it
   * could only wait, and a script's wait would have no end but the other person's.
   */
  private join(
    flight: SignInFlight,
    p: ProfileConfig,
    asker: Asker,
    timeoutSeconds: number,
  ): Promise<Tokens> {
    if (!canStart(p, asker)) {
      const problem =
        'a sign-in is under way elsewhere (a login or a get waiting for its password or code) and this request cannot answer it';
      return Promise.reject(elsewhere(p, problem));
    }
    flight.askers.push(asker);
    return withDeadline(this.parts.clock, flight.promise, timeoutSeconds * 1000, () => {
      // Not asked any more: this caller has stopped waiting.
      const at = flight.askers.indexOf(asker);
      if (at !== -1) flight.askers.splice(at, 1);
      return elsewhere(
        p,
        `a sign-in under way elsewhere did not finish within ${timeoutSeconds} s (--timeout)`,
      );
    });
  }

  /** Puts a question to the first waiting client that can answer it; moves on when a client goes away. */
  private async relay(p: ProfileConfig, flight: SignInFlight, spec: QuestionSpec): Promise<string> {
    const command = commandFor(p, spec.question);
    const tried = new Set<Asker>();
    const login = `run: cog-token login ${p.name}`;
    let lastRefusal: string | undefined;
    let failedCommand: string | undefined;
    for (;;) {
      const able = (a: Asker) =>
        spec.question === 'browser' ? canOpenBrowser(a) : canAnswer(a, command !== undefined);
      const asker = flight.askers.find((a) => !tried.has(a) && !a.closed && able(a));
      if (!asker && failedCommand !== undefined) {
        // A command of the user's (or their pinentry) failed and nobody else answered: not Cognito's
        // rejection (4) but its own exit status (9).
        throw new CogTokenError('command-failed', {
          profile: p.name,
          problem: failedCommand,
          remedy: `${commandFix(failedCommand)}, then ${login}`,
        });
      }
      if (!asker) throw nobodyToAsk(p, spec.question, allNoInput(flight.askers), lastRefusal);
      tried.add(asker);
      const outcome = await asker.ask({ ...spec, profile: p.name });
      if ('value' in outcome) return outcome.value;
      if ('gone' in outcome) continue;
      if (outcome.refused === 'no-input') {
        lastRefusal = outcome.message;
        continue;
      }
      if (outcome.refused === 'command-failed') {
        // Another waiting client (a terminal) may still answer.
        failedCommand = outcome.message;
        continue;
      }
      throw new CogTokenError('needs-sign-in', {
        profile: p.name,
        problem: 'sign-in cancelled',
        remedy: login,
      });
    }
  }
}
