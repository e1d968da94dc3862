/**
 * Each file of the build is self-contained (ARCHITECTURE.md, "Build"): a module bundled into two files
 * exists twice, and so does each class it declares. An instance made by one file's copy fails `instanceof`
 * against another's: a CogTokenError thrown in cli.js is not `instanceof CogTokenError` in main.js. This
 * finds each `instanceof C` whose instance may have been made in another bundle file: from the checking
 * module, its imports are followed (a callee's throw or return value reaches the caller); a dynamic import
 * of another file's entry crosses into that file, and a module there that makes a C (or a subclass) is a
 * finding. Callbacks passed the other way are not followed.
 */
import { dirname, join } from 'node:path';

/** What scripts/build.mjs writes to dist/bundles.json: each output file's entry and the sources it holds. */
export type Bundles = Record<string, { entry?: string; inputs: string[] }>;

interface Edge {
  target: string;
  dynamic: boolean;
}

function importsOf(file: string, text: string): Edge[] {
  const resolve = (spec: string) => join(dirname(file), spec).replace(/\.js$/, '.ts');
  return [
    ...[...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm)].map((m) => ({
      target: resolve(m[1] as string),
      dynamic: false,
    })),
    ...[...text.matchAll(/import\(\s*'(\.[^']+)'\s*\)/g)].map((m) => ({
      target: resolve(m[1] as string),
      dynamic: true,
    })),
  ];
}

export function crossBundleInstanceof(bundles: Bundles, source: (file: string) => string): string[] {
  const outputOf = new Map(Object.entries(bundles).flatMap(([out, b]) => (b.entry ? [[b.entry, out]] : [])));
  const files = [...new Set(Object.values(bundles).flatMap((b) => b.inputs))];
  const text = new Map(files.map((f) => [f, source(f)]));
  const parent = new Map<string, string | undefined>();
  for (const f of files) {
    for (const m of (text.get(f) ?? '').matchAll(/\bclass\s+(\w+)(?:\s+extends\s+(\w+))?/g)) {
      parent.set(m[1] as string, m[2]);
    }
  }
  const isA = (cls: string, ancestor: string): boolean => {
    for (let c: string | undefined = cls; c !== undefined; c = parent.get(c)) if (c === ancestor) return true;
    return false;
  };
  const makes = (file: string, cls: string) =>
    [...(text.get(file) ?? '').matchAll(/\bnew\s+(\w+)\s*\(/g)].some((m) => isA(m[1] as string, cls));
  const found = new Set<string>();
  for (const checker of files) {
    for (const m of (text.get(checker) ?? '').matchAll(/\binstanceof\s+(\w+)/g)) {
      const cls = m[1] as string;
      if (!parent.has(cls)) continue; // A built-in (Error, Buffer): one per process.
      // Its own files: loading one of them again is the same copy (Node's module cache).
      const own = new Set(
        Object.entries(bundles).flatMap(([out, b]) => (b.inputs.includes(checker) ? [out] : [])),
      );
      // Modules the checker reaches through its imports, and the bundle entry it crossed into, if any.
      const seen = new Set<string>();
      const queue: { file: string; via?: string }[] = [{ file: checker }];
      while (queue.length > 0) {
        const { file, via } = queue.shift() as { file: string; via?: string };
        const key = `${file} ${via ?? ''}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (via !== undefined && makes(file, cls)) {
          found.add(`${checker}: instanceof ${cls}, which ${file} makes in the file of ${via}`);
        }
        for (const e of importsOf(file, text.get(file) ?? source(file))) {
          const into = e.dynamic ? outputOf.get(e.target) : undefined;
          const crosses = into !== undefined && !own.has(into);
          queue.push({ file: e.target, ...(crosses ? { via: e.target } : via ? { via } : {}) });
        }
      }
    }
  }
  return [...found];
}
