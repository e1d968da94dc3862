/**
 * Edits one [profiles.NAME] table of a TOML file as text, key by key, so that other profiles, comments and
 * layout stay byte for byte (a TOML writer would drop the comments).
 */
import { ConfigError } from '../shared/errors.js';

export type TomlValue = string | string[] | number | boolean;

/** TOML basic strings take JSON's escapes; a number or a boolean is written bare. */
function tomlValue(value: TomlValue): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
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
  /** Index of the header line's first character. */
  start: number;
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
  return { start: m.index, bodyStart, keys, contentEnd };
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

/** Index of the first character of the line that holds `index`. */
function lineStart(text: string, index: number): number {
  return text.lastIndexOf('\n', index - 1) + 1;
}

/** Index just past the newline that ends the line holding `index` (the text's end on its last line). */
function lineEnd(text: string, index: number): number {
  const eol = text.indexOf('\n', index);
  return eol === -1 ? text.length : eol + 1;
}

/**
 * Removes `keys` from the profile's table: each key's whole line (a multi-line value whole, with its
 * trailing comment). Other lines, comments included, stay byte for byte. Returns the keys it found.
 */
export function removeProfileKeys(
  text: string,
  name: string,
  keys: readonly string[],
  file: string,
): { text: string; removed: string[] } {
  const table = findTable(text, name, file);
  if (!table) return { text, removed: [] };
  const lines = table.keys.filter((k) => keys.includes(k.key));
  let out = text;
  for (const k of [...lines].sort((a, b) => b.valueStart - a.valueStart)) {
    out = out.slice(0, lineStart(out, k.valueStart)) + out.slice(lineEnd(out, k.valueEnd));
  }
  return { text: out, removed: lines.map((k) => k.key) };
}

/**
 * Removes the profile's table: its header, the comment lines right above it (no blank line between) and
 * every line up to its last key. What follows (blank lines, the next table's own comments) stays.
 */
export function removeProfileTable(text: string, name: string, file: string): string | undefined {
  const table = findTable(text, name, file);
  if (!table) return undefined;
  let start = table.start;
  while (start > 0) {
    const previous = lineStart(text, start - 1);
    if (!text.slice(previous, start).trim().startsWith('#')) break;
    start = previous;
  }
  let end = table.contentEnd;
  // One blank line between tables is the layout: drop the one that separated this table from the next.
  if (start > 0 && /^\r?\n/.test(text.slice(end))) end = lineEnd(text, end);
  else if (start > 0 && end >= text.length)
    start = Math.max(0, text.slice(0, start).replace(/(\r?\n)+$/, '$1').length);
  return text.slice(0, start) + text.slice(end);
}
