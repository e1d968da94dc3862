/**
 * The socket server: a peer of another uid is refused before anything it sends is read, and the number of
 * connections served at once is bounded.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { messageOf } from '../../shared/errors.js';
import { encode, protocolVersion } from '../../shared/protocol.js';
import type { Clock } from '../clock.js';
import { log } from '../log.js';
import { peerUid } from '../peer-credentials.js';
import { Connection, type RequestHandler } from './connection.js';

/**
 * Connections served at once. A new one beyond this takes the place of the connection idle the longest (so
 * idle connections cannot lock the owner out); when none is idle, the new one is closed at once.
 */
const maxConnections = 256;

/** The second wall after the socket's permissions: another uid gets one error line. */
function peerIsUs(socket: Socket, ownUid: number | undefined): boolean {
  let uid: number | undefined;
  let failure: string | undefined;
  try {
    uid = peerUid(socket);
  } catch (error) {
    failure = messageOf(error);
  }
  if (failure === undefined && (uid === undefined || ownUid === undefined || uid === ownUid)) return true;
  const who = failure === undefined ? `uid ${uid}` : `a peer whose uid could not be read (${failure})`;
  log.warn(`refused a connection from ${who}: this daemon serves uid ${ownUid} only`);
  socket.on('error', () => {});
  const message = `this cog-token daemon serves uid ${ownUid} only; run your own (cog-token get starts it)`;
  socket.end(encode({ v: protocolVersion, type: 'error', code: 'protocol', message }));
  return false;
}

export function listener(
  handler: RequestHandler,
  options: { ownUid: number | undefined; idleMs: number; clock: Clock },
): { server: Server; connections: Set<Connection> } {
  const connections = new Set<Connection>();
  const server = createServer((socket) => {
    if (!peerIsUs(socket, options.ownUid)) return;
    // A flood of connections (each may hold up to one 64 KiB partial line) cannot grow memory without bound.
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
    const connection = new Connection(socket, handler, options.idleMs, options.clock);
    connections.add(connection);
    socket.on('close', () => connections.delete(connection));
  });
  server.on('error', (error) => log.error(`server: ${error.message}`));
  return { server, connections };
}
