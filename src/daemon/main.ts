/**
 * The daemon's composition root: builds the parts (config, store, Cognito gateway, profile logic, socket
 * server, lifecycle) and wires them; shuts down cleanly on SIGTERM/SIGINT or a `stop` request.
 */
import { CogTokenError, describeProblem, ExitStatus, exitStatusFor, messageOf } from '../shared/errors.js';
import { resolvePaths } from '../shared/paths.js';
import { quietSdkWarnings } from '../shared/sdk-warnings.js';
import { version } from '../shared/version.js';
import { systemClock } from './clock.js';
import { ConfigSource } from './config-source.js';
import { inspectorRefusal, keepInspectorClosed } from './inspector-guard.js';
import { keyStoreChoice, loadKeyring } from './keyring.js';
import { becomeDaemon } from './lifecycle.js';
import { log } from './log.js';
import { type PeerCheckState, selfTest } from './peer-credentials.js';
import { profileUseCases, type UseCases } from './profiles/use-cases.js';
import { takeStarter } from './readiness.js';
import { SdkCognitoGateway } from './sdk-cognito-gateway.js';
import { SdkIdentityGateway } from './sdk-identity-gateway.js';
import { idleTimeoutMs } from './server/connection.js';
import { dispatcher } from './server/dispatch.js';
import { listener } from './server/listener.js';
import { StoreNotices } from './store-notices.js';
import { TokenStore } from './token-store.js';

export async function runDaemon(): Promise<number> {
  // The client that started this daemon (if one did) hears how the start went, refusals included.
  const starter = takeStarter();
  const inspector = await inspectorRefusal();
  if (inspector) {
    log.error(inspector.message);
    starter.refuse(inspector);
    return ExitStatus.unsafeState;
  }
  const reopenInspector = keepInspectorClosed(() =>
    log.warn('SIGUSR1 ignored: this daemon never opens a Node.js inspector'),
  );
  quietSdkWarnings(() => log.debug('the AWS SDK warned that it will soon require a newer Node.js'));
  // Everything the daemon creates (database, -wal, -shm, key) is private to this user.
  process.umask(0o077);
  const clock = systemClock;
  const startedAt = clock.now();
  const paths = resolvePaths();
  const config = new ConfigSource(paths.configFile);
  const gateway = new SdkCognitoGateway();
  const identityGateway = new SdkIdentityGateway();
  const keyStore = keyStoreChoice();
  const keyring = keyStore === 'file' ? undefined : await loadKeyring();
  // The store opens once this process is the one daemon (so no two processes migrate or repair it at once),
  // and is retried on each request while it cannot be used: the daemon keeps serving and every get says
  // why, instead of exiting (a crash loop under a service manager) or touching data it must not touch.
  let opened: { store: TokenStore; useCases: UseCases } | undefined;
  let storeError: CogTokenError | undefined;
  const notices = new StoreNotices();
  const open = (): UseCases => {
    if (opened) return opened.useCases;
    try {
      const store = TokenStore.open(paths.databaseFile, paths.keyFile, {
        keyStore,
        ...(keyring ? { keyring } : {}),
        clock,
      });
      notices.add(store.notices);
      log.info(`token store ${paths.databaseFile} open; its key is in the ${store.keyLocation}`);
      const useCases = profileUseCases(config, store, gateway, clock, { identity: identityGateway });
      opened = { store, useCases };
      storeError = undefined;
      useCases.resume();
      return useCases;
    } catch (error) {
      // The store's own error (what and what to do), behind the file it is about.
      const own = error instanceof CogTokenError ? error : undefined;
      const inner = own ? describeProblem({ ...own.detail(), remedy: '' }) : messageOf(error);
      const problem = `cannot use the token store ${paths.databaseFile}: ${inner}`;
      const remedy = own ? (own.remedy ?? '') : 'fix the cause it names, then retry';
      const next =
        own?.withDetail({ problem, remedy }) ??
        new CogTokenError('unsafe-state', { problem, remedy }, { cause: error });
      if (storeError?.message !== next.message) log.error(next.message);
      storeError = next;
      throw storeError;
    }
  };
  // Tested once listening (on a connection to itself); status waits for the answer.
  let peerState: Promise<PeerCheckState> = Promise.resolve({ active: false, why: 'not tested yet' });
  let shutdown: () => void = () => {};
  const handler = dispatcher({
    open,
    storeError: () => storeError,
    notices,
    config,
    peerState: () => peerState,
    stop: () => shutdown(),
    paths,
    startedAt,
    clock,
  });
  const ownUid = process.getuid?.();
  const { server, connections } = listener(handler, { ownUid, idleMs: idleTimeoutMs(), clock });

  let listening: Awaited<ReturnType<typeof becomeDaemon>>;
  try {
    listening = await starter.follow(becomeDaemon(paths, server));
  } catch (error) {
    reopenInspector();
    log.error(`cannot listen on ${paths.socketFile}: ${messageOf(error)}`);
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
      opened?.useCases.shutdown();
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
        log.warn(`SIGHUP: config not usable: ${messageOf(error)}`);
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
      takeStarter().refuse(error); // a client still waiting hears why (nothing, once it was told)
      log.error(`daemon failed: ${(error instanceof Error && error.stack) || String(error)}`);
      process.exit(1);
    },
  );
}
