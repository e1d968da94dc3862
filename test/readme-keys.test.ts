/**
 * The README's list of profile keys is made from the key table (src/shared/profile-keys.ts): this test fails
 * when they differ, and writes the list anew with UPDATE_README=1.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { profileKeys } from '../src/shared/profile-keys.js';

const readme = new URL('../README.md', import.meta.url);
const start =
  '<!-- profile-keys: made from src/shared/profile-keys.ts by UPDATE_README=1 npx vitest run test/readme-keys.test.ts -->';
const end = '<!-- /profile-keys -->';

/** The README's list of keys (between its profile-keys markers), as an aligned Markdown table. */
function keyList(): string {
  const rows = profileKeys.map((k) => {
    const dflt = k.default !== undefined ? `\`${JSON.stringify(k.default)}\`` : k.required ? 'required' : '';
    const range = k.max !== undefined ? ` ${k.min}..${k.max}` : k.min !== undefined ? ` >= ${k.min}` : '';
    const flag = k.flag !== undefined ? `\`--${k.flag}\`` : '';
    return [
      `\`${k.key}\``,
      `${k.type === 'strings' ? 'list of strings' : k.type}${range}`,
      dflt,
      flag,
      k.help.replace(/\|/g, '\\|'),
    ];
  });
  const head = ['key', 'type', 'default', '`configure` flag', 'what it holds'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

describe("the README's key list", () => {
  it('is the key table', () => {
    const text = readFileSync(readme, 'utf8');
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    expect(from, `README.md lacks the marker ${start}`).toBeGreaterThan(-1);
    expect(to, `README.md lacks the marker ${end}`).toBeGreaterThan(from);
    const made = `${start}\n\n${keyList()}\n\n`;
    const now = text.slice(from, to);
    if (now !== made && process.env.UPDATE_README === '1') {
      writeFileSync(readme, text.slice(0, from) + made + text.slice(to));
      return;
    }
    expect(
      now,
      'the README differs from the key table: run UPDATE_README=1 npx vitest run test/readme-keys.test.ts',
    ).toBe(made);
  });
});
