/**
 * An HTTP proxy on loopback in front of the emulator that counts requests per Cognito operation
 * (X-Amz-Target), so a test can prove how many calls really reached Cognito.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class CountingProxy {
  readonly counts = new Map<string, number>();
  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(target: () => string): Promise<CountingProxy> {
    let proxy: CountingProxy | undefined;
    const server = createServer((req, res) => {
      const op =
        String(req.headers['x-amz-target'] ?? req.url ?? '')
          .split('.')
          .pop() ?? '';
      proxy?.counts.set(op, (proxy.counts.get(op) ?? 0) + 1);
      const url = new URL(req.url ?? '/', target());
      const upstream = request(url, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    proxy = new CountingProxy(server, `http://127.0.0.1:${port}`);
    return proxy;
  }

  count(op: string): number {
    return this.counts.get(op) ?? 0;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
