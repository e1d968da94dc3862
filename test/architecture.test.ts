/** Keeps ARCHITECTURE.md's import table true. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = new URL('../src', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

interface Import {
  file: string;
  target: string;
  dynamic: boolean;
}

function imports(): Import[] {
  const out: Import[] = [];
  for (const file of files(src)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)) {
      out.push({ file: relative(src, file), target: m[1] as string, dynamic: false });
    }
    for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) {
      out.push({ file: relative(src, file), target: m[1] as string, dynamic: true });
    }
  }
  return out;
}

const part = (path: string) => path.split('/')[0];

function targetPart(i: Import): string {
  if (!i.target.startsWith('.')) return `pkg:${i.target}`;
  return part(relative(src, join(src, i.file, '..', i.target))) as string;
}

const allowed: Record<string, (i: Import, target: string) => boolean> = {
  shared: (i, t) =>
    t === 'shared' ||
    t.startsWith('pkg:node:') ||
    t === 'pkg:smol-toml' ||
    t === 'pkg:env-paths' ||
    (t === 'pkg:tldts' && i.dynamic),
  system: (_i, t) => t === 'shared' || t === 'system' || t.startsWith('pkg:node:'),
  daemon: (i, t) =>
    t === 'shared' ||
    t === 'system' ||
    t === 'daemon' ||
    t.startsWith('pkg:node:') ||
    t === 'pkg:better-sqlite3' ||
    ((t.startsWith('pkg:@aws-sdk/') || t === 'pkg:qrcode' || t === 'pkg:@napi-rs/keyring') && i.dynamic),
  client: (i, t) =>
    t === 'shared' ||
    t === 'system' ||
    t === 'client' ||
    t.startsWith('pkg:node:') ||
    t.startsWith('pkg:yargs') ||
    (t === 'daemon' && i.dynamic && i.target.endsWith('daemon/main.js')),
  emulator: (i, t) =>
    t === 'shared' ||
    t === 'emulator' ||
    t.startsWith('pkg:node:') ||
    t.startsWith('pkg:@aws-sdk/') ||
    (t === 'client' && i.target.endsWith('client/answering/answers.js')),
  testing: (_i, t) =>
    t === 'shared' || t === 'client' || t === 'emulator' || t === 'testing' || t.startsWith('pkg:node:'),
  bench: (_i, t) =>
    t === 'shared' ||
    t === 'client' ||
    t === 'emulator' ||
    t === 'testing' ||
    t === 'bench' ||
    t.startsWith('pkg:node:'),
};

describe('import rules (ARCHITECTURE.md)', () => {
  it('each part imports only what the table allows', () => {
    const bad: string[] = [];
    const typeOnly = (i: Import) =>
      new RegExp(`^import type[^;]*'${i.target.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}'`, 'm').test(
        readFileSync(join(src, i.file), 'utf8'),
      );
    for (const i of imports()) {
      const from = part(i.file) as string;
      const rule = allowed[from];
      const t = targetPart(i);
      const ok = rule?.(i, t) || (t.startsWith('pkg:@aws-sdk/') && from === 'daemon' && typeOnly(i));
      if (!ok) bad.push(`${i.file} imports ${i.target}${i.dynamic ? ' (dynamic)' : ''}`);
    }
    expect(bad).toEqual([]);
  });

  it('the tests take their helpers from src/testing or test/, never from the bench', () => {
    const testDir = new URL('.', import.meta.url).pathname;
    const testFiles = readdirSync(testDir, { recursive: true, encoding: 'utf8' }).filter((f) =>
      /\.(ts|mjs)$/.test(f),
    );
    const fromBench = testFiles.filter((f) =>
      /from\s+'[./]*src\/bench\//.test(readFileSync(join(testDir, f), 'utf8')),
    );
    expect(fromBench).toEqual([]);
  });
});
