import { describe, expect, it } from 'vitest';
import { LineSplitter, maxMessageBytes, parseAnswer, parseRequest } from '../src/shared/protocol.js';

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
