/**
 * A fault-injecting TCP proxy on loopback, in front of the emulator. In `pass` mode it relays bytes both ways;
 * the other modes break the network the way the real one breaks:
 * - `refuse`: nothing listens on the port (connect gets ECONNREFUSED);
 * - `stall`: the connection is accepted and the request read, but no byte ever comes back;
 * - `reset`: the request reaches Cognito, part of its answer comes back, then a TCP RST;
 * - `http500`: an HTTP 500 with a non-JSON body, as from a broken load balancer;
 * - `throttle`: Cognito's TooManyRequestsException (HTTP 400, x-amzn-ErrorType), as when a quota is hit.
 * Changing mode cuts every open connection, so no kept-alive connection from before carries on unharmed.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type FaultMode = 'pass' | 'refuse' | 'stall' | 'reset' | 'http500' | 'throttle';

export class FaultProxy {
  private mode: FaultMode = 'pass';
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  /** Connections accepted in each mode (a test can tell that a request really met the fault). */
  readonly accepted = new Map<FaultMode, number>();

  private constructor(
    private readonly upstreamPort: () => number,
    public port: number,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(upstreamPort: () => number): Promise<FaultProxy> {
    const proxy = new FaultProxy(upstreamPort, 0);
    await proxy.listen();
    return proxy;
  }

  private listen(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        const address = server.address();
        if (address && typeof address === 'object') this.port = address.port;
        resolve();
      });
    });
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
  }

  private accept(client: Socket): void {
    const mode = this.mode;
    this.accepted.set(mode, (this.accepted.get(mode) ?? 0) + 1);
    this.track(client);
    switch (mode) {
      case 'pass':
      case 'reset': {
        const upstream = connect(this.upstreamPort(), '127.0.0.1');
        this.track(upstream);
        client.pipe(upstream);
        if (mode === 'pass') {
          upstream.pipe(client);
        } else {
          // Let the first bytes of the answer through, then reset: a response cut off mid-way.
          upstream.once('data', (data: Buffer) => {
            client.write(data.subarray(0, Math.max(1, Math.floor(data.length / 2))), () =>
              client.resetAndDestroy(),
            );
            upstream.destroy();
          });
        }
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => {
          if (mode === 'pass') client.destroy();
        });
        return;
      }
      case 'stall':
        client.resume(); // read and drop the request; never answer
        return;
      case 'http500':
        client.once('data', () => {
          const body = '<html><body>500 Internal Server Error (injected)</body></html>';
          client.end(
            `HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
          );
        });
        return;
      case 'throttle':
        client.once('data', () => {
          const body = JSON.stringify({ __type: 'TooManyRequestsException', message: 'Rate exceeded' });
          client.end(
            `HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-ErrorType: TooManyRequestsException\r\nx-amzn-RequestId: 00000000-0000-0000-0000-000000000000\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
          );
        });
        return;
      case 'refuse':
        client.destroy(); // not reached: in this mode nothing listens
        return;
    }
  }

  /** Switches the fault; cuts every open connection; `refuse` closes the port, leaving it reopens it. */
  async set(mode: FaultMode): Promise<void> {
    const was = this.mode;
    this.mode = mode;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (mode === 'refuse' && was !== 'refuse') await this.close();
    if (mode !== 'refuse' && was === 'refuse') await this.listen();
  }

  private close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await this.close();
  }
}
