import { describe, expect, it } from 'vitest';
import { printable } from '../src/shared/printable.js';
import {
  LineSplitter,
  maxMessageBytes,
  parseAnswer,
  parseDaemonLine,
  parseDaemonMessage,
  parseRequest,
} from '../src/shared/protocol.js';

function split(chunks: (string | Buffer)[], limit?: number) {
  const lines: string[] = [];
  let overflows = 0;
  const s = new LineSplitter(
    (l) => lines.push(l),
    () => overflows++,
    limit,
  );
  for (const c of chunks) s.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return { lines, overflows };
}

describe('LineSplitter', () => {
  it('splits across chunks, including a multi-byte character split in two', () => {
    const e = Buffer.from('é');
    expect(
      split(['{"a":', '1}\n{"b"', ':2}\n', Buffer.from([0x22]), e.subarray(0, 1), e.subarray(1), '"\n'])
        .lines,
    ).toEqual(['{"a":1}', '{"b":2}', '"é"']);
  });

  it('refuses an over-long line as soon as it passes the limit, without waiting for its end', () => {
    const r = split(['x'.repeat(10), 'y'.repeat(10)], 15);
    expect(r).toEqual({ lines: [], overflows: 1 });
    expect(split(['ok\n', 'z'.repeat(maxMessageBytes + 1)]).overflows).toBe(1);
    expect(split([`${'z'.repeat(maxMessageBytes)}\n`]).lines).toHaveLength(1);
  });
});

describe('parseRequest', () => {
  const abilities = { tty: false, commands: true };
  it('accepts well-formed requests', () => {
    expect(parseRequest({ v: 1, op: 'get', profile: 'dev', abilities })).toMatchObject({
      op: 'get',
      profile: 'dev',
    });
    expect(parseRequest({ v: 1, op: 'status' })).toEqual({ v: 1, op: 'status' });
  });
  it.each([
    [null, /JSON object/],
    [[1], /JSON object/],
    [{ v: 2, op: 'status' }, /protocol version 2/],
    [{ v: 1, op: 'rm -rf' }, /unknown operation/],
    [{ v: 1, op: 'get', profile: '../etc', abilities }, /profile/],
    [{ v: 1, op: 'get', profile: 'dev', abilities, minValid: -1 }, /minValid/],
    [{ v: 1, op: 'get', profile: 'dev', abilities, token: 'refresh' }, /token/],
    [{ v: 1, op: 'get', profile: 'dev' }, /abilities/],
  ])('refuses %j', (value, reason) => {
    const r = parseRequest(value);
    expect(typeof r).toBe('string');
    expect(r).toMatch(reason);
  });
  it('checks answers', () => {
    expect(parseAnswer({ type: 'answer', id: 1, value: 'x' })).toMatchObject({ value: 'x' });
    expect(parseAnswer({ type: 'answer', id: 1, error: 'cancelled' })).toMatchObject({ error: 'cancelled' });
    expect(typeof parseAnswer({ type: 'answer', id: 1, error: 'boom' })).toBe('string');
  });
});

describe('parseDaemonMessage (what the client accepts from its socket)', () => {
  const jwt = 'eyJhbGciOiJub25lIn0.eyJleHAiOjF9.c2ln';
  it('an ask keeps only the known fields: a command or a pinentry sent with it is dropped', () => {
    const ask = {
      v: 1,
      type: 'ask',
      id: 3,
      profile: 'dev',
      question: 'password',
      prompt: 'Password: ',
      challenge: 'PASSWORD',
    };
    expect(parseDaemonMessage({ ...ask, command: 'touch /tmp/x', pinentry: '/tmp/evil' })).toEqual(ask);
  });
  it('a get result needs a JWT-shaped token, a known kind and an expiry RFC 3339 can write', () => {
    const ok = { type: 'result', op: 'get', token: jwt, kind: 'id', expiresAt: 2_000_000_000 };
    expect(parseDaemonMessage(ok)).toMatchObject({ token: jwt, expiresAt: 2_000_000_000 });
    expect(parseDaemonMessage({ ...ok, extra: '$(id)' })).not.toHaveProperty('extra');
  });
  it.each([
    [{ type: 'result', op: 'get', token: 'abc', kind: 'id', expiresAt: 1 }, /not a JWT/],
    [{ type: 'result', op: 'get', token: `${jwt}\n`, kind: 'id', expiresAt: 1 }, /not a JWT/],
    [{ type: 'result', op: 'get', token: jwt, kind: 'id', expiresAt: '$(touch x)' }, /expiry/],
    [{ type: 'result', op: 'get', token: jwt, kind: 'id', expiresAt: -1 }, /expiry/],
    [{ type: 'result', op: 'get', token: jwt, kind: 'refresh', expiresAt: 1 }, /kind/],
    [{ type: 'result', op: 'get', token: jwt, kind: 'id', expiresAt: 1, warnings: [1] }, /warnings/],
    [{ type: 'result', op: 'rm' }, /unknown operation/],
    [{ type: 'ask', id: 1, profile: '../x', question: 'password', prompt: '' }, /profile/],
    [{ type: 'ask', id: 1, profile: 'dev', question: 'shell', prompt: '' }, /kind/],
    [{ type: 'ask', id: 1, profile: 'dev', question: 'mfa', prompt: '', challenge: 'A B' }, /challenge/],
    [{ type: 'error', code: 'internal' }, /message/],
    [{ type: 'status' }, /unknown type/],
    [[], /JSON object/],
  ])('refuses %j', (value, reason) => {
    const r = parseDaemonMessage(value);
    expect(typeof r).toBe('string');
    expect(r).toMatch(reason);
    // The reason never quotes what was sent.
    expect(r).not.toMatch(/touch|\.\.\/x|shell|A B/);
  });
  it('a line that is not JSON is refused', () => {
    expect(parseDaemonLine('{"type":')).toBe('something that is not JSON');
  });
});

describe('printable', () => {
  it('drops escape sequences whole (7-bit and C1) and every other control character', () => {
    expect(
      printable('a\x1b]0;pwned\x07b \x9b31mc\x1b[0m \x1b]8;;http://x\x1b\\l\x1b]8;;\x1b\\ d\x00\x7f\x85e'),
    ).toBe('ab c l de');
    expect(printable('unterminated \x1b]0;title')).toBe('unterminated ');
    expect(printable('tab\there, é €')).toBe('tab here, é €');
  });
  it('keeps newlines only in multi-line display text', () => {
    expect(printable('one\r\ntwo\nthree')).toBe('one two three');
    expect(printable('one\r\ntwo\x1b[31m\nthree', { multiline: true })).toBe('one\ntwo\nthree');
  });
});
