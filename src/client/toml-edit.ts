/**
 * Edits one [profiles.NAME] table of a TOML file as text, key by key, so that other profiles, comments and
 * layout stay byte for byte (a TOML writer would drop the comments).
 */
import { ConfigError } from '../shared/errors.js';

export type TomlValue = string | string[];

/** TOML basic strings take JSON's escapes. */
function tomlValue(value: TomlValue): string {
  return Array.isArray(value) ? `[${value.map((v) => JSON.stringify(v)).join(', ')}]` : JSON.stringify(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function tableHeader(name: string): string {
  return /^[A-Za-z0-9_-]+$/.test(name) ? `[profiles.${name}]` : `[profiles."${name}"]`;
}

/**
 * Index just past the TOML value that starts at `start`: a string (single or multi-line), an array or
 * inline table (across lines, with comments inside), or a bare word (number, boolean, date).
 */
function valueEnd(text: string, start: number): number {
  const n = text.length;
  let i = start;
  let depth = 0;
  const skipString = () => {
    const q = text[i] as string;
    if (text.startsWith(q.repeat(3), i)) {
      i += 3;
      while (i < n && !text.startsWith(q.repeat(3), i)) i += q === '"' && text[i] === '\\' ? 2 : 1;
      i += 3;
      while (text[i] === q) i++; // """a""""": up to two quotes belong to the content
      return;
    }
    i++;
    while (i < n && text[i] !== q && text[i] !== '\n') i += q === '"' && text[i] === '\\' ? 2 : 1;
    i++;
  };
  while (i < n) {
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      skipString();
      if (depth === 0) return Math.min(i, n);
      continue;
    }
    if (ch === '[' || ch === '{') {
      depth++;
      i++;
      continue;
    }
    if (ch === ']' || ch === '}') {
      depth--;
      i++;
      if (depth <= 0) return i;
      continue;
    }
    if (depth > 0) {
      if (ch === '#') while (i < n && text[i] !== '\n') i++;
      else i++;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '#' || ch === '\n' || ch === '\r') return i;
    i++;
  }
  return n;
}

interface KeyLine {
  key: string;
  valueStart: number;
  valueEnd: number;
}

interface Table {
  /** Index just past the header line's newline. */
  bodyStart: number;
  keys: KeyLine[];
  /** Index just past the newline of the table's last key line (or of the header). */
  contentEnd: number;
}

const keyPattern = /^[ \t]*("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[A-Za-z0-9_-]+)[ \t]*=[ \t]*/;

export function findTable(text: string, name: string, file: string): Table | undefined {
  const quoted = escapeRegExp(name);
  const header = new RegExp(
    `^[ \\t]*\\[[ \\t]*profiles[ \\t]*\\.[ \\t]*(?:${quoted}|"${quoted}"|'${quoted}')[ \\t]*\\][ \\t]*(?:#[^\\n]*)?$`,
    'm',
  );
  const m = header.exec(text);
  if (!m) return undefined;
  const headerEnd = text.indexOf('\n', m.index);
  const bodyStart = headerEnd === -1 ? text.length : headerEnd + 1;
  const keys: KeyLine[] = [];
  let contentEnd = bodyStart;
  let pos = bodyStart;
  while (pos < text.length) {
    const eol = text.indexOf('\n', pos);
    const lineEnd = eol === -1 ? text.length : eol;
    const line = text.slice(pos, lineEnd);
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      pos = lineEnd + 1;
      continue;
    }
    if (trimmed.startsWith('[')) break;
    const km = keyPattern.exec(line);
    if (!km) {
      throw new ConfigError({
        where: `${file}: profile "${name}"`,
        profile: name,
        problem: `cannot read the line "${trimmed.slice(0, 60)}" to edit it`,
        remedy: 'edit the file by hand',
      });
    }
    const rawKey = km[1] as string;
    const key = rawKey.startsWith('"') ? (JSON.parse(rawKey) as string) : rawKey.replace(/^'|'$/g, '');
    const valueStart = pos + km[0].length;
    const end = valueEnd(text, valueStart);
    const after = text.indexOf('\n', end);
    keys.push({ key, valueStart, valueEnd: end });
    contentEnd = after === -1 ? text.length : after + 1;
    pos = contentEnd;
  }
  return { bodyStart, keys, contentEnd };
}

/**
 * Sets `values` in the profile's table (replacing values in place, adding missing keys after its last key),
 * or appends a new table. Everything else in the text stays byte for byte.
 */
export function editProfileText(
  text: string,
  name: string,
  values: [string, TomlValue][],
  file: string,
): string {
  const table = findTable(text, name, file);
  if (!table) {
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    let out = text;
    if (out !== '' && !out.endsWith('\n')) out += eol;
    if (out.trim() !== '') out += eol;
    return `${out}${[tableHeader(name), ...values.map(([k, v]) => `${k} = ${tomlValue(v)}`)].join(eol)}${eol}`;
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const edits: { start: number; end: number; text: string }[] = [];
  const added: string[] = [];
  for (const [key, value] of values) {
    const existing = table.keys.find((k) => k.key === key);
    if (existing) edits.push({ start: existing.valueStart, end: existing.valueEnd, text: tomlValue(value) });
    else added.push(`${key} = ${tomlValue(value)}${eol}`);
  }
  if (added.length > 0) {
    const at = table.keys.length > 0 ? table.contentEnd : table.bodyStart;
    const needsBreak = at > 0 && text[at - 1] !== '\n';
    edits.push({ start: at, end: at, text: `${needsBreak ? eol : ''}${added.join('')}` });
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start))
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}
