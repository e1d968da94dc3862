/**
 * Every error the code can raise has the same shape: a code (hence an exit status), and the parts of its one
 * line (where or which profile, what happened, what to do next), made into that line by `describeProblem`
 * alone. The first part reads every `new ...Error(` of a CogTokenError class in src/ with the TypeScript
 * parser and checks each one; the second checks the line and the trip over the socket.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import {
  CogTokenError,
  ConfigError,
  daemonError,
  describeProblem,
  type ErrorCode,
  ExitStatus,
  exitStatusFor,
  UnsafeStateError,
} from '../src/shared/errors.js';
import { parseDaemonMessage } from '../src/shared/protocol.js';

const src = new URL('../src', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

interface Raise {
  at: string;
  cls: string;
  code?: string;
  detail?: ts.Expression;
}

/** The classes that are CogTokenErrors: the base and every class in src that extends one of them. */
function errorClasses(files: ts.SourceFile[]): Set<string> {
  const classes = new Set(['CogTokenError']);
  let grew = true;
  while (grew) {
    grew = false;
    for (const file of files) {
      ts.forEachChild(file, function visit(node): void {
        if (ts.isClassDeclaration(node) && node.name && !classes.has(node.name.text)) {
          const base = node.heritageClauses?.flatMap((h) => h.types.map((t) => t.expression.getText(file)));
          if (base?.some((b) => classes.has(b))) {
            classes.add(node.name.text);
            grew = true;
          }
        }
        ts.forEachChild(node, visit);
      });
    }
  }
  return classes;
}

function raises(): Raise[] {
  const files = sources(src).map((f) =>
    ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.Latest, true),
  );
  const classes = errorClasses(files);
  const out: Raise[] = [];
  // errors.ts itself is the machinery (daemonError rebuilds a reply's error from what the daemon sent).
  for (const file of files.filter((f) => !f.fileName.endsWith('/shared/errors.ts'))) {
    ts.forEachChild(file, function visit(node): void {
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && classes.has(node.expression.text)) {
        const cls = node.expression.text;
        const args = node.arguments ?? [];
        const at = `${relative(src, file.fileName)}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
        // The base takes (code, detail); a subclass fixes its code and takes (detail).
        if (cls === 'CogTokenError') {
          const code = args[0];
          out.push({
            at,
            cls,
            ...(code && ts.isStringLiteralLike(code) ? { code: code.text } : {}),
            ...(args[1] ? { detail: args[1] } : {}),
          });
        } else {
          out.push({ at, cls, ...(args[0] ? { detail: args[0] } : {}) });
        }
      }
      ts.forEachChild(node, visit);
    });
  }
  return out;
}

/**
 * The properties of a detail argument: an object literal, or each branch of a `?:` between them. A spread of
 * another error's `detail()` brings its problem (an ErrorDetail always has one). Anything else: undefined.
 */
function properties(detail: ts.Expression | undefined): Map<string, ts.Expression> | undefined {
  if (!detail) return undefined;
  if (ts.isParenthesizedExpression(detail)) return properties(detail.expression);
  if (ts.isConditionalExpression(detail)) {
    const [yes, no] = [properties(detail.whenTrue), properties(detail.whenFalse)];
    if (!yes || !no) return undefined;
    // Only the keys both branches have count.
    return new Map([...yes].filter(([key]) => no.has(key)));
  }
  if (!ts.isObjectLiteralExpression(detail)) return undefined;
  const props = new Map<string, ts.Expression>();
  for (const p of detail.properties) {
    if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name)) props.set(p.name.text, p.initializer);
    if (ts.isShorthandPropertyAssignment(p)) props.set(p.name.text, p.name);
    if (
      ts.isSpreadAssignment(p) &&
      ts.isCallExpression(p.expression) &&
      ts.isPropertyAccessExpression(p.expression.expression) &&
      p.expression.expression.name.text === 'detail'
    ) {
      props.set('problem', p.expression);
    }
  }
  return props;
}

/** The literal text of a string or template (its fixed parts), to check its form. */
function literalText(e: ts.Expression): string | undefined {
  if (ts.isStringLiteralLike(e)) return e.text;
  if (ts.isTemplateExpression(e))
    return [e.head.text, ...e.templateSpans.map((s) => s.literal.text)].join('…');
  return undefined;
}

describe('every error the code can raise', () => {
  const all = raises();

  it('finds the raises (the parser sees the code)', () => {
    expect(all.length).toBeGreaterThan(50);
  });

  it('gives its parts as data (an object with a problem), never a preformatted line', () => {
    const bad = all.filter((r) => !properties(r.detail)?.has('problem')).map((r) => `${r.at} new ${r.cls}`);
    expect(bad).toEqual([]);
  });

  it('says what to do next unless it is an internal error (a bug)', () => {
    const bad = all
      .filter((r) => r.code !== 'internal')
      .filter((r) => !properties(r.detail)?.has('remedy'))
      .map((r) => `${r.at} new ${r.cls}`);
    expect(bad).toEqual([]);
  });

  it('has a code the exit statuses know', () => {
    const bad = all
      .filter((r) => r.cls === 'CogTokenError' && r.code !== undefined)
      .filter((r) => exitStatusFor(r.code as ErrorCode) === undefined)
      .map((r) => r.at);
    expect(bad).toEqual([]);
  });

  it('writes each part as a clause: no line break, no trailing period, no "error:" prefix', () => {
    const bad: string[] = [];
    for (const r of all) {
      for (const [key, value] of properties(r.detail) ?? []) {
        if (!['where', 'problem', 'remedy'].includes(key)) continue;
        const text = literalText(value);
        if (text === undefined) continue;
        if (
          /[\r\n]/.test(text) ||
          /\.\s*$/.test(text) ||
          /^\s*error:/i.test(text) ||
          /^\s*:|:\s*$/.test(text)
        ) {
          bad.push(`${r.at} ${key}: ${JSON.stringify(text)}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('describeProblem: the one line', () => {
  it('leads with where, else the profile, then the problem and the remedy', () => {
    expect(
      describeProblem({ profile: 'dev', problem: 'no refresh token', remedy: 'run: cog-token login dev' }),
    ).toBe('profile dev: no refresh token: run: cog-token login dev');
    expect(
      describeProblem({
        where: '/c.toml: profile dev',
        profile: 'dev',
        problem: 'missing key "region"',
        remedy: 'add it',
      }),
    ).toBe('/c.toml: profile dev: missing key "region": add it');
    expect(describeProblem({ problem: 'the daemon answered another question' })).toBe(
      'the daemon answered another question',
    );
  });

  it('is one line, whatever the parts hold', () => {
    expect(describeProblem({ profile: 'p', problem: 'a\nb', remedy: 'c\r\n  d' })).toBe(
      'profile p: a b: c d',
    );
  });

  it('is the message of each error class, and the class gives the exit status', () => {
    const detail = { profile: 'dev', problem: 'p', remedy: 'r' };
    expect(new CogTokenError('needs-sign-in', detail).message).toBe('profile dev: p: r');
    expect(new CogTokenError('needs-sign-in', detail).exitStatus).toBe(ExitStatus.needsSignIn);
    expect(new ConfigError(detail).exitStatus).toBe(ExitStatus.usage);
    expect(new UnsafeStateError(detail).exitStatus).toBe(ExitStatus.unsafeState);
  });
});

describe('an error over the socket', () => {
  it('keeps its parts and its line from the daemon to the client', () => {
    const error = new CogTokenError('auth-rejected', {
      profile: 'dev',
      problem: 'Cognito refused the password',
      remedy: 'run: cog-token login dev',
    });
    const wire = JSON.parse(
      JSON.stringify({ v: 1, type: 'error', code: error.code, message: error.message, ...error.detail() }),
    );
    const reply = parseDaemonMessage(wire);
    if (typeof reply === 'string' || reply.type !== 'error') throw new Error(`not an error reply: ${reply}`);
    const back = daemonError(reply.code, reply.message, reply);
    expect(back.message).toBe(error.message);
    expect(back.detail()).toEqual(error.detail());
    expect(back.exitStatus).toBe(ExitStatus.authRejected);
  });

  it('falls back to the line when the daemon sent no parts, and to internal for a code it does not know', () => {
    expect(daemonError('unreachable', 'profile dev: no network: retry').message).toBe(
      'profile dev: no network: retry',
    );
    expect(daemonError('no-such-code', 'x').exitStatus).toBe(ExitStatus.internal);
  });
});
