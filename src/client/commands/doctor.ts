/**
 * `cog-token doctor`: checks what cog-token needs, one line each, a problem with its fix. It changes nothing
 * and starts no daemon. Exit 0 when all is well; `ExitStatus.doctorFoundProblems` when any check found a problem
 * (notes, such as an optional part missing, do not count).
 */
import { ExitStatus, messageOf } from '../../shared/errors.js';
import { resolvePaths } from '../../shared/paths.js';
import { printable } from '../../shared/printable.js';
import { type DaemonStatus, protocolVersion } from '../../shared/protocol.js';
import {
  browserFindings,
  configFindings,
  directoryFinding,
  type Finding,
  fileFinding,
  installFinding,
  keyFinding,
  nodeFinding,
  packageRootOf,
  peerFinding,
  pinentryFinding,
  profileFindings,
  serviceFindings,
} from '../doctor-checks.js';
import { defineCommand } from '../get/runner.js';
import { requestIfRunning } from '../requests.js';

export const doctor = defineCommand({
  command: 'doctor',
  describe: 'check the config, files, daemon, service and Node.js, and say how to fix what is wrong',
  builder: (y) => y,
  handler: async () => {
    const env = process.env;
    const paths = resolvePaths();
    const findings: Finding[] = [nodeFinding(process.versions.node)];
    const { findings: configFound, config } = configFindings(paths.configFile);
    findings.push(...configFound);
    let daemon: DaemonStatus | undefined;
    let unreachable: string | undefined;
    try {
      daemon = (await requestIfRunning(paths, { v: protocolVersion, op: 'status' }))?.status;
    } catch (error) {
      // An unsafe socket directory, a daemon that does not answer: doctor says so and goes on.
      unreachable = messageOf(error);
    }
    if (unreachable) {
      findings.push({ kind: 'problem', text: `daemon: ${unreachable}`, fix: '' });
    } else if (!daemon) {
      findings.push({ kind: 'note', text: 'daemon: no daemon running (it starts on the first get)' });
    } else {
      findings.push({ kind: 'ok', text: `daemon: pid ${daemon.pid}, version ${daemon.version}` });
      if (daemon.configFile !== paths.configFile)
        findings.push({
          kind: 'problem',
          text: `daemon: reads config ${daemon.configFile}, this shell ${paths.configFile}`,
          fix: "run cog-token stop; the next get starts a daemon that reads this shell's config",
        });
      if (daemon.configError && !configFound.some((f) => f.kind === 'problem'))
        findings.push({
          kind: 'problem',
          text: `daemon: config: ${daemon.configError}`,
          fix: 'fix the file',
        });
      if (daemon.storeError) findings.push({ kind: 'problem', text: `store: ${daemon.storeError}`, fix: '' });
      for (const notice of daemon.notices ?? []) findings.push({ kind: 'note', text: `store: ${notice}` });
      const configTrouble = configFound.some((f) => f.kind === 'problem');
      const told = (p: { name: string; lastError?: string }) =>
        config?.broken.has(p.name) === true ||
        (configTrouble && p.lastError?.startsWith('not served: ') === true);
      findings.push(...profileFindings(daemon.profiles, Math.floor(Date.now() / 1000), told));
    }
    findings.push(directoryFinding('socket directory', paths.runtimeDir));
    const socket = fileFinding('socket', paths.socketFile);
    if (socket) findings.push(socket);
    findings.push(directoryFinding('store directory', paths.dataDir));
    const store = fileFinding('store', paths.databaseFile);
    if (store) findings.push(store);
    findings.push(directoryFinding('state directory', paths.stateDir));
    findings.push(keyFinding(paths, daemon));
    findings.push({ kind: 'ok', text: `log: ${daemon?.log ?? paths.logFile}` });
    findings.push(peerFinding(daemon));
    findings.push(await pinentryFinding(config, env));
    findings.push(...browserFindings(config, env));
    findings.push(...serviceFindings(paths.logFile, env));
    const install = installFinding(packageRootOf());
    if (install) findings.push(install);

    const problems = findings.filter((f) => f.kind === 'problem').length;
    const lines = findings.map((f) =>
      f.kind === 'problem' && f.fix ? `problem: ${f.text}: ${f.fix}` : `${f.kind}: ${f.text}`,
    );
    lines.push(problems === 0 ? 'all is well' : `${problems} problem${problems === 1 ? '' : 's'} found`);
    process.stdout.write(`${lines.map((line) => printable(line)).join('\n')}\n`);
    return problems === 0 ? undefined : ExitStatus.doctorFoundProblems;
  },
});
