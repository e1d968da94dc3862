/**
 * Builds dist/ with esbuild (npm run build; tsc only type-checks: tsconfig.json has noEmit).
 * `$(cog-token get dev)` runs inside other commands many times a minute, and the first one may have to start
 * the daemon, so their start-up is what counts (BENCHMARKS.md has the figures):
 *
 * - The client and the daemon are CommonJS, not ES modules: Node 20 starts an ES module entry several ms
 *   slower (the ESM loader), and loading better-sqlite3 through it costs more. dist/client and dist/daemon
 *   each hold a package.json that says `"type": "commonjs"`.
 * - One file per entry point: each module costs a lookup, a read and a compile.
 * - dist/client/main.js holds only the `get` hot path (src/client/get). What it needs only sometimes is a
 *   file of its own, loaded on first use: cli.js (yargs, src/client/commands), requests.js (`get` when the
 *   daemon must be started or someone asked: node:net, env-paths), answers.js (src/client/answering: a
 *   question from the daemon), config.js (config.toml parsing, for --format header or a pinentry_program).
 *   ARCHITECTURE.md ("Build") has the table and why.
 * - dist/daemon/main.js is the daemon; files it starts as processes of their own (`new URL('./x.js',
 *   import.meta.url)`, e.g. keyring-helper.js) are bundled beside it. better-sqlite3 (native), the AWS SDK,
 *   qrcode and @napi-rs/keyring stay in node_modules; the daemon imports the last three on first use.
 * - dist/emulator/demo.js (npm run demo) and dist/bench/main.js (npm run bench) are ES modules that load
 *   their packages from node_modules.
 *
 * Each file is self-contained, so a module such as shared/errors.ts exists once per file: code that crosses
 * files compares error codes, not classes (client/runner.ts reportFailure); test/bundles.test.ts checks it
 * against dist/bundles.json (which sources each file holds), written below. ARCHITECTURE.md says why.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
// Built aside, then swapped in with two renames: a command or test running meanwhile never finds dist/ half
// written (the old files stay readable until the swap, and open files after it).
const staging = join(root, '.tmp', `dist-${process.pid}`);

/** Client modules loaded on demand, each bundled into a file of its own in dist/client. */
const lazyClient = {
  'src/client/cli.ts': 'cli',
  'src/client/requests.ts': 'requests',
  'src/client/answering/answers.ts': 'answers',
  'src/shared/config.ts': 'config',
};

/**
 * A dynamic import() of one of the `lazyClient` modules stays a load of its file at run time (never copied
 * in); so does the daemon's entry. Static imports are bundled.
 */
const lazyOutside = {
  name: 'lazy-outside',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      // From dist/client, wherever in src/client the import is written.
      if (/\/daemon\/main\.js$/.test(args.path)) return { path: '../daemon/main.js', external: true };
      if (args.kind !== 'dynamic-import') return undefined;
      const source = join(args.resolveDir, args.path).replace(/\.js$/, '.ts');
      const name = lazyClient[source.slice(root.length)];
      return name ? { path: `./${name}.js`, external: true } : undefined;
    });
  },
};

// import.meta in a CommonJS file: its own URL (so `new URL('../daemon/main.js', import.meta.url)` still
// works) and resolve(). The URL is made on first use: the `get` hot path never needs it. 'use strict' first,
// where esbuild's own would no longer be a directive: the sources are modules, strict throughout.
const importMeta = `'use strict';
const importMeta = {
  get url() { return require('node:url').pathToFileURL(__filename).href; },
  resolve: (specifier) => require('node:url').pathToFileURL(require.resolve(specifier)).href,
};`;

const commonjs = {
  absWorkingDir: root,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  define: { 'import.meta': 'importMeta' },
  banner: { js: importMeta },
  logLevel: 'warning',
  metafile: true,
};

const esm = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  metafile: true,
};

function freshDir(dir, type) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  if (type) writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ type })}\n`);
}

/** src/daemon files the daemon runs as processes of their own: `new URL('./x.js', import.meta.url)`. */
function daemonHelpers() {
  const dir = join(root, 'src/daemon');
  const helpers = new Set();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const m of text.matchAll(/new URL\(\s*'\.\/([\w-]+)\.js',\s*import\.meta\.url\s*\)/g)) {
      helpers.add(m[1]);
    }
  }
  return Object.fromEntries([...helpers].map((name) => [name, `src/daemon/${name}.ts`]));
}

const entries = (names) =>
  Object.fromEntries(
    Object.entries(lazyClient).flatMap(([src, name]) => (names.includes(name) ? [[name, src]] : [])),
  );

freshDir(staging);
freshDir(join(staging, 'client'), 'commonjs');
freshDir(join(staging, 'daemon'), 'commonjs');

const results = await Promise.all([
  // The hot path and what it loads on demand: import() becomes require(), with no ESM loader to start.
  build({
    ...commonjs,
    outdir: join(staging, 'client'),
    entryPoints: {
      main: 'src/client/get/main.ts',
      ...entries(['requests', 'answers', 'config']),
    },
    plugins: [lazyOutside],
    supported: { 'dynamic-import': false },
  }),
  // The command line keeps import() for the daemon's entry.
  build({
    ...commonjs,
    outdir: join(staging, 'client'),
    entryPoints: entries(['cli']),
    plugins: [lazyOutside],
  }),
  build({
    ...commonjs,
    outdir: join(staging, 'daemon'),
    entryPoints: { main: 'src/daemon/main.ts', ...daemonHelpers() },
    external: ['better-sqlite3', '@aws-sdk/*', 'qrcode', '@napi-rs/keyring'],
  }),
  build({ ...esm, outdir: join(staging, 'emulator'), entryPoints: { demo: 'src/emulator/demo.ts' } }),
  build({ ...esm, outdir: join(staging, 'bench'), entryPoints: { main: 'src/bench/main.ts' } }),
]);

// Which sources each output file holds (test/bundles.test.ts reads it: instanceof across bundle files).
const bundled = Object.fromEntries(
  results.flatMap((result) =>
    Object.entries(result.metafile.outputs)
      .filter(([file]) => file.endsWith('.js'))
      .map(([file, output]) => [
        file.replace(/^\.tmp\/dist-\d+/, 'dist'),
        { entry: output.entryPoint, inputs: Object.keys(output.inputs).filter((i) => i.startsWith('src/')) },
      ]),
  ),
);
writeFileSync(join(staging, 'bundles.json'), `${JSON.stringify(bundled, null, 1)}\n`);

const live = join(root, 'dist');
const old = join(root, '.tmp', `dist-old-${process.pid}`);
if (existsSync(live)) renameSync(live, old);
renameSync(staging, live);
rmSync(old, { recursive: true, force: true });

for (const result of results) {
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    process.stdout.write(
      `${file.replace(/^\.tmp\/dist-\d+/, 'dist')}: ${(output.bytes / 1024).toFixed(1)} KiB\n`,
    );
  }
}
