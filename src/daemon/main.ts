/**
 * The daemon process: wires config, store, Cognito gateway and socket server together, and shuts down
 * cleanly on SIGTERM/SIGINT or a `stop` request.
 */
import { createServer, type Socket } from 'node:net';
import { CogTokenError, ExitStatus, exitStatusFor, UnsafeStateError } from '../shared/errors.js';
import { resolvePaths } from '../shared/paths.js';
import {
  type DaemonMessage,
  defaultTimeoutSeconds,
  encode,
  protocolVersion,
  type Request,
} from '../shared/protocol.js';
import { quietSdkWarnings } from '../shared/sdk-warnings.js';
import { version } from '../shared/version.js';
import { ConfigSource } from './config-source.js';
import { Connection, idleTimeoutMs, type RequestHandler } from './connection.js';
import { inspectorRefusal, keepInspectorClosed } from './inspector-guard.js';
import { keyStoreChoice, loadKeyring } from './keyring.js';
import { becomeDaemon } from './lifecycle.js';
import { log } from './log.js';
import { type PeerCheckState, peerUid, selfTest } from './peer-credentials.js';
import { type Asker, ProfileManager } from './profile-manager.js';
import { tellStarter } from './readiness.js';
import { SdkCognitoGateway } from './sdk-cognito-gateway.js';
import { StoreNotices } from './store-notices.js';
import { TokenStore } from './token-store.js';

/**
 * Connections served at once. A new one beyond this takes the place of the connection idle the longest (so
 * idle connections cannot lock the owner out); when none is idle, the new one is closed at once.
 */
const maxConnections = 256;

/**
 * The second wall after the socket's permissions: a connection from another uid gets one error line and is
 * closed before anything it sends is read.
 */
function peerIsUs(socket: Socket, ownUid: number | undefined): boolean {
  let uid: number | undefined;
  let failure: string | undefined;
  try {
    uid = peerUid(socket);
  } catch (error) {
    failure = (error as Error).message;
  }
  if (failure === undefined && (uid === undefined || ownUid === undefined || uid === ownUid)) return true;
  const who = failure === undefined ? `uid ${uid}` : `a peer whose uid could not be read (${failure})`;
  log.warn(`refused a connection from ${who}: this daemon serves uid ${ownUid} only`);
  socket.on('error', () => {});
  socket.end(
    encode({
      v: protocolVersion,
      type: 'error',
      code: 'protocol',
      message: `this cog-token daemon serves uid ${ownUid} only; run your own (cog-token get starts it)`,
    }),
  );
  return false;
}

export async function runDaemon(): Promise<number> {
  const inspector = await inspectorRefusal();
  if (inspector) {
    log.error(inspector);
    return ExitStatus.unsafeState;
  }
  const reopenInspector = keepInspectorClosed(() =>
    log.warn('SIGUSR1 ignored: this daemon never opens a Node.js inspector'),
  );
  quietSdkWarnings(() => log.debug('the AWS SDK warned that it will soon require a newer Node.js'));
  // Everything the daemon creates (database, -wal, -shm, key) is private to this user.
  process.umask(0o077);
  const startedAt = Date.now();
  const paths = resolvePaths();
  const config = new ConfigSource(paths.configFile);
  const gateway = new SdkCognitoGateway();
  const keyStore = keyStoreChoice();
  const keyring = keyStore === 'file' ? undefined : await loadKeyring();
  // The store opens once this process is the one daemon (so no two processes migrate or repair it at once),
  // and is retried on each request while it cannot be used: the daemon keeps serving and every get says
  // why, instead of exiting (a crash loop under a service manager) or touching data it must not touch.
  let opened: { store: TokenStore; manager: ProfileManager } | undefined;
  let storeError: CogTokenError | undefined;
  const notices = new StoreNotices();
  const open = (): { store: TokenStore; manager: ProfileManager } => {
    if (opened) return opened;
    try {
      const store = TokenStore.open(paths.databaseFile, paths.keyFile, {
        keyStore,
        ...(keyring ? { keyring } : {}),
      });
      notices.add(store.notices);
      log.info(`token store ${paths.databaseFile} open; its key is in the ${store.keyLocation}`);
      const manager = new ProfileManager(config, store, gateway);
      opened = { store, manager };
      storeError = undefined;
      manager.resumeAll();
      return opened;
    } catch (error) {
      const message = `cannot use the token store ${paths.databaseFile}: ${(error as Error).message}`;
      if (storeError?.message !== message) log.error(message);
      storeError =
        error instanceof CogTokenError
          ? new CogTokenError(error.code, message)
          : new UnsafeStateError(message);
      throw storeError;
    }
  };
  const connections = new Set<Connection>();
  // Tested once listening (on a connection to itself); status waits for the answer.
  let peerState: Promise<PeerCheckState> = Promise.resolve({ active: false, why: 'not tested yet' });
  let shutdown: () => void = () => {};

  const handler: RequestHandler = {
    async handle(request: Request, asker: Asker): Promise<DaemonMessage> {
      switch (request.op) {
        case 'get': {
          const r = await notices.around(request.profile, () =>
            open().manager.get(request.profile, asker, {
              ...(request.token ? { token: request.token } : {}),
              ...(request.minValid !== undefined ? { minValid: request.minValid } : {}),
              forceSignIn: request.forceSignIn === true,
              // How long this get waits for a refresh. A spread, so that it compiles whether or not
              // ProfileManager.get declares the option yet.
              timeoutSeconds: request.timeout ?? defaultTimeoutSeconds,
            }),
          );
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
          const r = await open().manager.logout(request.profile, { local: request.local === true });
          return {
            v: protocolVersion,
            type: 'result',
            op: 'logout',
            revoked: r.revoked,
            deleted: r.deleted,
            ...(r.warnings.length ? { warnings: r.warnings } : {}),
          };
        }
        case 'devices': {
          const r = await open().manager.devices(request.profile, request.forget);
          return {
            v: protocolVersion,
            type: 'result',
            op: 'devices',
            devices: r.devices,
            ...(r.warnings.length ? { warnings: r.warnings } : {}),
          };
        }
        case 'invalidate': {
          const r = open().manager.invalidate(request.profile);
          return {
            v: protocolVersion,
            type: 'result',
            op: 'invalidate',
            ...(r.warnings.length ? { warnings: r.warnings } : {}),
          };
        }
        case 'status': {
          const peer = await peerState;
          let s: ReturnType<ProfileManager['status']> = { profiles: [] };
          try {
            s = open().manager.status();
          } catch {
            // storeError says why; status still answers.
          }
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
              ...(storeError ? { storeError: storeError.message } : {}),
              ...(notices.all().length ? { notices: notices.all() } : {}),
              ...(peer.active ? { peerCheck: peer.method } : { peerCheckInactive: peer.why }),
              profiles: s.profiles,
            },
          };
        }
        case 'stop':
          setImmediate(() => shutdown());
          return { v: protocolVersion, type: 'result', op: 'stop', pid: process.pid, version };
        case 'ping':
          return { v: protocolVersion, type: 'result', op: 'ping', pid: process.pid, version };
        case 'reload': {
          const r = config.reload();
          return { v: protocolVersion, type: 'result', op: 'reload', ...r };
        }
      }
    },
  };

  const ownUid = process.getuid?.();
  const idleMs = idleTimeoutMs();
  const server = createServer((socket) => {
    if (!peerIsUs(socket, ownUid)) return;
    // A flood of connections (each may hold up to one 64 KiB partial line) cannot grow memory without
    // bound, nor keep the owner out: the longest idle one makes room.
    if (connections.size >= maxConnections) {
      let oldest: Connection | undefined;
      for (const c of connections) if (c.idle && (!oldest || c.idleSince < oldest.idleSince)) oldest = c;
      if (!oldest) {
        log.warn(`${maxConnections} connections are all busy; a new one was closed`);
        socket.on('error', () => {});
        socket.destroy();
        return;
      }
      log.debug(`connection limit reached: closing idle connection ${oldest.id} for a new one`);
      oldest.shed();
      connections.delete(oldest);
    }
    const connection = new Connection(socket, handler, idleMs);
    connections.add(connection);
    socket.on('close', () => connections.delete(connection));
  });
  server.on('error', (error) => log.error(`server: ${error.message}`));

  let listening: Awaited<ReturnType<typeof becomeDaemon>>;
  try {
    listening = await tellStarter(becomeDaemon(paths, server));
  } catch (error) {
    reopenInspector();
    log.error(`cannot listen on ${paths.socketFile}: ${(error as Error).message}`);
    return error instanceof CogTokenError ? exitStatusFor(error.code) : 1;
  }
  if (listening.kind === 'already-running') {
    reopenInspector();
    log.info('another daemon is already serving; exiting');
    return 0;
  }
  // Where the server really listens (a socket passed by systemd may be elsewhere), else the configured path.
  const address = server.address();
  peerState = selfTest(typeof address === 'string' && address ? address : paths.socketFile, ownUid).then(
    (state) => {
      if (state.active) log.info(`peer uid check: ${state.method} (tested on a connection to itself)`);
      else
        log.warn(`peer uid check not active: ${state.why}; the socket's permissions alone keep others out`);
      return state;
    },
  );
  const release = listening.release;
  log.info(`cog-token ${version} daemon ${process.pid} listening on ${paths.socketFile}`);
  try {
    open();
  } catch {
    // Logged; each request tries again and answers with the reason.
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    shutdown = () => {
      if (stopping) return;
      stopping = true;
      log.info('shutting down');
      opened?.manager.shutdown();
      release();
      for (const c of connections) c.closed = true;
      opened?.store.close();
      reopenInspector();
      resolve(0);
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
    process.on('SIGHUP', () => {
      try {
        config.reload();
        log.info('SIGHUP: config re-read');
      } catch (error) {
        log.warn(`SIGHUP: config not usable: ${(error as Error).message}`);
      }
    });
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
