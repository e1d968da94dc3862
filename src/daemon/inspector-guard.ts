/**
 * The daemon holds the store's key in memory for hours: an inspector (`--inspect*`, in its arguments or in
 * NODE_OPTIONS) is an unauthenticated TCP port that any local user can connect to and evaluate code in. So
 * the daemon refuses to run with one, unless COG_TOKEN_ALLOW_INSPECT=1 says this is a developer's machine;
 * and it keeps SIGUSR1 (which would open the inspector of a running Node process) for itself.
 */
import { UnsafeStateError } from '../shared/errors.js';

const allowInspectVariable = 'COG_TOKEN_ALLOW_INSPECT';

const inspectOption = /(^|\s)--(inspect|inspect-brk|inspect-wait|inspect-port|debug-port)(=|\s|$)/;

/** Why this process must not run as the daemon, or undefined when no inspector is (or will be) enabled. */
export async function inspectorRefusal(
  env: NodeJS.ProcessEnv = process.env,
  execArgv: readonly string[] = process.execArgv,
): Promise<UnsafeStateError | undefined> {
  if (env[allowInspectVariable] === '1') return undefined;
  let where: string | undefined;
  if (execArgv.some((a) => inspectOption.test(a))) where = "in node's arguments";
  else if (inspectOption.test(env.NODE_OPTIONS ?? '')) where = 'in NODE_OPTIONS';
  else {
    try {
      const inspector = await import('node:inspector');
      if (inspector.url() !== undefined) where = 'already open';
    } catch {
      // A Node built without the inspector: nothing to refuse.
    }
  }
  if (where === undefined) return undefined;
  return new UnsafeStateError({
    problem: `the daemon refuses to run with a Node.js inspector enabled (${where}): anyone on this machine could read its keys through it`,
    remedy: `remove --inspect from NODE_OPTIONS (or set ${allowInspectVariable}=1 on a development machine)`,
  });
}

/**
 * A listener of our own for SIGUSR1 keeps Node from opening the inspector on it (`kill -USR1 <pid>`).
 * Returns a function that removes it (for `cog-token daemon` run inside a client process that goes on).
 */
export function keepInspectorClosed(onSignal: () => void): () => void {
  if (process.env[allowInspectVariable] === '1') return () => {};
  process.on('SIGUSR1', onSignal);
  return () => process.off('SIGUSR1', onSignal);
}
