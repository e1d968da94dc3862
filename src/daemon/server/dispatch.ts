/** Each request's op to its use case, and the daemon's status assembled from the parts. */
import type { CogTokenError } from '../../shared/errors.js';
import { type DaemonMessage, protocolVersion } from '../../shared/protocol.js';
import { version } from '../../shared/version.js';
import type { Clock } from '../clock.js';
import type { ConfigSource } from '../config-source.js';
import { logDestination } from '../log.js';
import type { PeerCheckState } from '../peer-credentials.js';
import type { UseCases } from '../profiles/use-cases.js';
import type { StoreNotices } from '../store-notices.js';
import type { RequestHandler } from './connection.js';

export interface Served {
  /** The profile logic once the store is open; throws why it cannot open (retried on each request). */
  open(): UseCases;
  storeError(): CogTokenError | undefined;
  notices: StoreNotices;
  config: ConfigSource;
  /** The peer uid check, tested once listening; status waits for it. */
  peerState(): Promise<PeerCheckState>;
  stop(): void;
  paths: { socketFile: string; configFile: string; logFile: string };
  startedAt: number;
  clock: Clock;
}

function result(op: string, fields: object, warnings: string[] = []): DaemonMessage {
  return {
    v: protocolVersion,
    type: 'result',
    op,
    ...fields,
    ...(warnings.length ? { warnings } : {}),
  } as DaemonMessage;
}

export function dispatcher(d: Served): RequestHandler {
  return {
    async handle(request, asker) {
      switch (request.op) {
        case 'get': {
          const r = await d.notices.around(request.profile, () =>
            d.open().get(request.profile, asker, request),
          );
          return result('get', { token: r.token, kind: r.kind, expiresAt: r.expiresAt }, r.warnings);
        }
        case 'aws-credentials': {
          const r = await d.notices.around(request.profile, () =>
            d.open().awsCredentials(request.profile, asker, request),
          );
          const c = r.credentials;
          const fields = {
            accessKeyId: c.accessKeyId,
            secretAccessKey: c.secretAccessKey,
            sessionToken: c.sessionToken,
            expiresAt: c.expiresAt,
          };
          return result('aws-credentials', fields, r.warnings);
        }
        case 'logout': {
          const r = await d.open().logout(request.profile, { local: request.local === true });
          return result('logout', { revoked: r.revoked, deleted: r.deleted }, r.warnings);
        }
        case 'devices': {
          const r = await d.open().devices(request.profile, request.forget);
          return result('devices', { devices: r.devices }, r.warnings);
        }
        case 'invalidate':
          return result('invalidate', {}, d.open().invalidate(request.profile).warnings);
        case 'status':
          return result('status', { status: await status(d) });
        case 'stop':
          setImmediate(() => d.stop());
          return result('stop', { pid: process.pid, version });
        case 'ping':
          return result('ping', { pid: process.pid, version });
        case 'reload':
          return result('reload', d.config.reload());
      }
    },
  };
}

async function status(d: Served): Promise<object> {
  const peer = await d.peerState();
  let s: Partial<ReturnType<UseCases['status']>> = { profiles: [] };
  try {
    s = d.open().status();
  } catch {
    // storeError says why; status still answers.
  }
  const storeError = d.storeError();
  const notices = d.notices.all();
  return {
    pid: process.pid,
    version,
    startedAt: Math.round(d.startedAt / 1000),
    uptimeSeconds: Math.round((d.clock.now() - d.startedAt) / 1000),
    socket: d.paths.socketFile,
    configFile: d.paths.configFile,
    ...(s.configError ? { configError: s.configError } : {}),
    ...(storeError ? { storeError: storeError.message } : {}),
    ...(notices.length ? { notices } : {}),
    ...(peer.active ? { peerCheck: peer.method } : { peerCheckInactive: peer.why }),
    log: logDestination(d.paths.logFile),
    ...(s.keyLocation ? { keyLocation: s.keyLocation } : {}),
    profiles: s.profiles ?? [],
  };
}
