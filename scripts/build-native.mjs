/**
 * npm's install step for cog-token itself: builds build/Release/peercred.node (src/native/peercred.c), the
 * daemon's check of the uid at the other end of each connection. It is optional: without a compiler (or on
 * Windows) the install goes on and the daemon relies on its socket's permissions alone, as `cog-token
 * status` then says. node-gyp is the one npm ships (npm_config_node_gyp), as for any native package.
 *
 * A failed build says its cause in one line (the compiler's first error, the missing program or file, the
 * headers that could not be downloaded), not node-gyp's pages of boilerplate.
 */
import { spawnSync } from 'node:child_process';

if (process.platform === 'win32') process.exit(0);
const nodeGyp = process.env.npm_config_node_gyp;
const [command, args] = nodeGyp ? [process.execPath, [nodeGyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const r = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  const why = r.error ? notRun(r.error) : causeOf(`${r.stdout}\n${r.stderr}`);
  process.stderr.write(
    `cog-token: the peer-uid check was not built (${why.slice(0, 400)}); the daemon will rely on its socket's permissions alone\n`,
  );
}

/** node-gyp itself did not start. */
function notRun(error) {
  return error.code === 'ENOENT' ? `${command} is not installed` : `${command} did not run: ${error.message}`;
}

/** The one line of node-gyp's output that says why the build failed. */
function causeOf(output) {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  // node-gyp's own lines are boilerplate (versions, stack traces, "not ok"); the tools' lines say the cause.
  const tools = lines.filter((line) => !/^gyp (info|ERR!|WARN|http)\b/.test(line));
  // The compiler's first error: "../src/native/peercred.c:12:10: fatal error: node_api.h: No such file ...".
  const compiler = tools.find((line) => /(^|\s|:)(fatal )?error:/.test(line));
  if (compiler) return compiler;
  // A program or file that is not there: "make: cc: No such file or directory", "sh: 1: make: not found".
  const missing = tools.find((line) => /No such file or directory|not found/i.test(line));
  if (missing) return missing.replace(/^\w*Error: \[Errno \d+\] /, '');
  if (lines.some((line) => /^gyp http GET .*headers/.test(line)))
    return 'the Node.js headers could not be downloaded (offline?): set npm_config_nodedir to a Node.js install with include/node';
  if (lines.some((line) => /^gyp ERR! find Python/.test(line)))
    return 'node-gyp found no Python 3, which it needs';
  // A compiler that failed without a word (CC=false): make names the object it could not build.
  const make = tools.find((line) => /^make: \*\*\* /.test(line));
  if (make) {
    const compiling = /\.o\] Error \d+$/.test(make);
    return compiling ? `the C compiler (${process.env.CC || 'cc'}) failed without a message: ${make}` : make;
  }
  // node could not start node-gyp: "Error: Cannot find module '/x/node-gyp.js'".
  const thrown = tools.find((line) => /^Error: /.test(line));
  if (thrown) return thrown.slice('Error: '.length);
  const stack = lines.find((line) => line.startsWith('gyp ERR! stack Error: '));
  if (stack) return stack.slice('gyp ERR! stack '.length);
  return tools.at(-1) ?? lines.at(-1) ?? `${command} failed (exit ${r.status}) without a message`;
}
