#!/usr/bin/env node
/**
 * The cog-token entry point. `cog-token get <profile>` in its plain forms is the hot path (`$(cog-token get
 * dev)` runs inside other commands, often many times a minute): parsed by hand (get-args.ts) and answered
 * with only the socket code loaded. Everything else, and any form of `get` the hand parser does not take,
 * goes to the full command line (cli.ts, yargs), loaded on demand.
 *
 * The build bundles this file into one CommonJS file (scripts/build.mjs), so the hot path is one file to
 * load; see BENCHMARKS.md for what each of these choices bought.
 */
import { parseGetArgs } from './get-args.js';
import { runGet } from './get-command.js';
import { allWritten } from './output.js';
import { settle } from './runner.js';

const argv = process.argv.slice(2);
const get = parseGetArgs(argv);
if (get) {
  settle(runGet(get)).then(() => {
    // All printed and nothing left to wait for: exit now rather than through Node's teardown.
    if (allWritten()) process.exit();
  });
} else {
  settle(import('../cli.js').then((cli) => cli.runCli(argv)));
}
