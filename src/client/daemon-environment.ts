/**
 * What a daemon started on demand inherits from the shell of the client that happened to start it: only
 * what it needs to find its files, its keyring and the network. Everything else (NODE_OPTIONS with an
 * `--inspect`, a preload, secrets in unrelated variables) would live on in a long-running process that
 * serves every later client, so it is left behind; the working directory is `/`.
 */

/** Variables carried by name. */
const carriedNames = new Set([
  'HOME',
  'PATH',
  'USER',
  'LOGNAME',
  'TMPDIR',
  'TZ',
  'LANG',
  'LANGUAGE',
  'DBUS_SESSION_BUS_ADDRESS',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
]);

/** Variables carried by prefix: locale, the XDG base directories and cog-token's own. */
const carriedPrefixes = ['LC_', 'XDG_', 'COG_TOKEN_'];

/** The environment for a daemon started by a client: a clean subset of `env`; never any NODE_* variable. */
export function daemonEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (carriedNames.has(name) || carriedPrefixes.some((prefix) => name.startsWith(prefix))) {
      out[name] = value;
    }
  }
  return out;
}

/** The daemon's working directory: not the caller's (a directory it would keep busy, or one others own). */
export const daemonWorkingDirectory = '/';
