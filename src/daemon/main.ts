/**
 * The daemon process: wires config, store, Cognito gateway and socket server together, and shuts down
 * cleanly on SIGTERM/SIGINT or a `stop` request.
 */
import { createServer } from 'node:net';
import { CogTokenError, exitStatusFor } from '../shared/errors.js';
import { resolvePaths } from '../shared/paths.js';
import { type DaemonMessage, protocolVersion, type Request } from '../shared/protocol.js';
import { version } from '../shared/version.js';
import { SdkCognitoGateway } from './cognito-gateway.js';
import { ConfigSource } from './config-source.js';
import { Connection, type RequestHandler } from './connection.js';
import { becomeDaemon } from './lifecycle.js';
import { log } from './log.js';
import { type Asker, ProfileManager } from './profile-manager.js';
import { TokenStore } from './token-store.js';

/** The AWS SDK warns about Node 20 on load; that belongs in the log at most, never on a user's terminal. */
function quietSdkWarnings(): void {
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = String(warning instanceof Error ? `${warning.name} ${warning.message}` : warning);
    if (
      text.includes('NodeVersionSupportWarning') ||
      JSON.stringify(rest).includes('NodeVersionSupportWarning')
    ) {
      log.debug('the AWS SDK warned that it will soon require a newer Node.js');
      return;
    }
    emit(warning, ...rest);
  }) as typeof process.emitWarning;
}

export async function runDaemon(): Promise<number> {
  quietSdkWarnings();
  // Everything the daemon creates (database, -wal, -shm, key) is private to this user.
  process.umask(0o077);
  const startedAt = Date.now();
  const paths = resolvePaths();
  let store: TokenStore;
  try {
    store = TokenStore.open(paths.databaseFile, paths.keyFile);
  } catch (error) {
    log.error(`cannot open the token store: ${(error as Error).message}`);
    return error instanceof CogTokenError ? exitStatusFor(error.code) : 1;
  }
  const config = new ConfigSource(paths.configFile);
  const manager = new ProfileManager(config, store, new SdkCognitoGateway());
  const connections = new Set<Connection>();
  let shutdown: () => void = () => {};

  const handler: RequestHandler = {
    async handle(request: Request, asker: Asker): Promise<DaemonMessage> {
      switch (request.op) {
        case 'get': {
          const r = await manager.get(request.profile, asker, {
            ...(request.token ? { token: request.token } : {}),
            ...(request.minValid !== undefined ? { minValid: request.minValid } : {}),
            forceSignIn: request.forceSignIn === true,
          });
          return {
            v: protocolVersion,
            type: 'result',
            op: 'get',
            token: r.token,
            kind: r.kind,
            expiresAt: r.expiresAt,
            ...(r.warnings.length ? { warnings: r.warnings } : {}),
          };
        }
        case 'logout': {
          const r = await manager.logout(request.profile);
          return {
            v: protocolVersion,
            type: 'result',
            op: 'logout',
            revoked: r.revoked,
            ...(r.warnings.length ? { warnings: r.warnings } : {}),
          };
        }
        case 'devices': {
          const r = await manager.devices(request.profile, request.forget);
          return {
            v: protocolVersion,
            type: 'result',
            op: 'devices',
            devices: r.devices,
            ...(r.warnings.length ? { warnings: r.warnings } : {}),
          };
        }
        case 'invalidate': {
          const r = manager.invalidate(request.profile);
          return {
            v: protocolVersion,
            type: 'result',
            op: 'invalidate',
            ...(r.warnings.length ? { warnings: r.warnings } : {}),
          };
        }
        case 'status': {
          const s = manager.status();
          return {
            v: protocolVersion,
            type: 'result',
            op: 'status',
            status: {
              pid: process.pid,
              version,
              startedAt,
              uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
              socket: paths.socketFile,
              configFile: paths.configFile,
              ...(s.configError ? { configError: s.configError } : {}),
              profiles: s.profiles,
            },
          };
        }
        case 'stop':
          setImmediate(() => shutdown());
          return { v: protocolVersion, type: 'result', op: 'stop', pid: process.pid, version };
        case 'ping':
          return { v: protocolVersion, type: 'result', op: 'ping', pid: process.pid, version };
      }
    },
  };

  const server = createServer((socket) => {
    const connection = new Connection(socket, handler);
    connections.add(connection);
    socket.on('close', () => connections.delete(connection));
  });
  server.on('error', (error) => log.error(`server: ${error.message}`));

  let listening: Awaited<ReturnType<typeof becomeDaemon>>;
  try {
    listening = await becomeDaemon(paths, server);
  } catch (error) {
    log.error(`cannot listen on ${paths.socketFile}: ${(error as Error).message}`);
    store.close();
    return error instanceof CogTokenError ? exitStatusFor(error.code) : 1;
  }
  if (listening.kind === 'already-running') {
    log.info('another daemon is already serving; exiting');
    store.close();
    return 0;
  }
  const release = listening.release;
  log.info(`cog-token ${version} daemon ${process.pid} listening on ${paths.socketFile}`);
  manager.resumeAll();

  return new Promise<number>((resolve) => {
    let stopping = false;
    shutdown = () => {
      if (stopping) return;
      stopping = true;
      log.info('shutting down');
      manager.shutdown();
      release();
      for (const c of connections) c.closed = true;
      store.close();
      resolve(0);
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
    process.on('SIGHUP', () => log.info('SIGHUP: config is re-read on every change; nothing to do'));
    process.on('unhandledRejection', (reason) => log.error(`unhandled rejection: ${String(reason)}`));
  });
}

/** Entry point when started on demand by a client: `node dist/daemon/main.js`. */
if (import.meta.url === `file://${process.argv[1]}`) {
  runDaemon().then(
    (code) => process.exit(code),
    (error: unknown) => {
      log.error(`daemon failed: ${String((error as Error)?.stack ?? error)}`);
      process.exit(1);
    },
  );
}
