/** `instanceof` across the build's bundle files (test/support/bundle-classes.ts says why and how). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Bundles, crossBundleInstanceof } from './support/bundle-classes.js';

const root = new URL('..', import.meta.url).pathname;
const read = (file: string) => (existsSync(`${root}${file}`) ? readFileSync(`${root}${file}`, 'utf8') : '');

describe('bundles by folder', () => {
  it('src/client/get is the hot path: dist/client/main.js holds it, and of the client nothing else', () => {
    const bundles = JSON.parse(read('dist/bundles.json')) as Bundles;
    const client = (bundles['dist/client/main.js']?.inputs ?? []).filter((f) => f.startsWith('src/client/'));
    const folder = readdirSync(`${root}src/client/get`).map((f) => `src/client/get/${f}`);
    expect(client.sort()).toEqual(folder.sort());
  });

  it('src/client/answering is dist/client/answers.js: the get paths load it only with a question', () => {
    const bundles = JSON.parse(read('dist/bundles.json')) as Bundles;
    const folder = readdirSync(`${root}src/client/answering`).map((f) => `src/client/answering/${f}`);
    expect(bundles['dist/client/answers.js']?.inputs).toEqual(expect.arrayContaining(folder));
    for (const other of ['dist/client/main.js', 'dist/client/requests.js']) {
      expect(bundles[other]?.inputs.filter((f) => f.startsWith('src/client/answering/'))).toEqual([]);
    }
  });
});

describe('instanceof across bundle files', () => {
  it('no code checks instanceof on a class whose instance may come from another bundle file', () => {
    const file = `${root}dist/bundles.json`;
    if (!existsSync(file)) throw new Error('dist/bundles.json is missing: build first (npm run build)');
    const bundles = JSON.parse(readFileSync(file, 'utf8')) as Bundles;
    expect(bundles['dist/client/cli.js']?.entry).toBe('src/client/cli.ts');
    expect(crossBundleInstanceof(bundles, read)).toEqual([]);
    // The same build, with get-command.ts checking the class of what the full path (requests.js) throws.
    const bad = (f: string) =>
      f === 'src/client/get/get-command.ts'
        ? `${read(f)}\nif (e instanceof CogTokenError) say(e.message);`
        : read(f);
    expect(crossBundleInstanceof(bundles, bad)).toContainEqual(
      expect.stringMatching(
        /^src\/client\/get\/get-command\.ts: instanceof CogTokenError, which .* makes in the file of src\/client\/requests\.ts$/,
      ),
    );
  });

  it('catches a deliberately bad example: an error thrown in cli.js, checked by class in main.js', () => {
    const sources: Record<string, string> = {
      'src/shared/errors.ts':
        'export class CogTokenError extends Error {}\nexport class ConfigError extends CogTokenError {}',
      'src/client/main.ts': [
        "import { CogTokenError } from '../shared/errors.js';",
        "import('./cli.js').then((cli) => cli.run()).catch((error) => {",
        '  if (error instanceof CogTokenError) say(error.message);',
        '});',
      ].join('\n'),
      'src/client/cli.ts':
        "import { ConfigError } from '../shared/errors.js';\nthrow new ConfigError('bad');",
    };
    const bundles: Bundles = {
      'dist/client/main.js': {
        entry: 'src/client/main.ts',
        inputs: ['src/shared/errors.ts', 'src/client/main.ts'],
      },
      'dist/client/cli.js': {
        entry: 'src/client/cli.ts',
        inputs: ['src/shared/errors.ts', 'src/client/cli.ts'],
      },
    };
    expect(crossBundleInstanceof(bundles, (f) => sources[f] ?? '')).toEqual([
      'src/client/main.ts: instanceof CogTokenError, which src/client/cli.ts makes in the file of src/client/cli.ts',
    ]);
    // Matched by its code instead, as client/runner.ts does: nothing to find.
    sources['src/client/main.ts'] = (sources['src/client/main.ts'] as string).replace(
      'error instanceof CogTokenError',
      "error.code === 'config'",
    );
    expect(crossBundleInstanceof(bundles, (f) => sources[f] ?? '')).toEqual([]);
    // Bundled together (a static import), the class is the same copy: nothing to find either.
    sources['src/client/main.ts'] =
      "import { ConfigError } from '../shared/errors.js';\nif (e instanceof ConfigError) throw new ConfigError('x');";
    expect(crossBundleInstanceof(bundles, (f) => sources[f] ?? '')).toEqual([]);
  });
});
