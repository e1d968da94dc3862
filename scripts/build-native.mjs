/**
 * npm's install step for cog-token itself: builds build/Release/peercred.node (src/native/peercred.c), the
 * daemon's check of the uid at the other end of each connection. It is optional: without a compiler (or on
 * Windows) the install goes on and the daemon relies on its socket's permissions alone, as `cog-token
 * status` then says. node-gyp is the one npm ships (npm_config_node_gyp), as for any native package.
 */
import { spawnSync } from 'node:child_process';

if (process.platform === 'win32') process.exit(0);
const nodeGyp = process.env.npm_config_node_gyp;
const [command, args] = nodeGyp ? [process.execPath, [nodeGyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  const why = r.error?.message ?? r.stderr.trim().split('\n').slice(-3).join(' / ');
  process.stderr.write(
    `cog-token: the peer-uid check was not built (${why}); the daemon will rely on its socket's permissions alone\n`,
  );
}
