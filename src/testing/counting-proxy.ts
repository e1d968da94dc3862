/**
 * An HTTP proxy on loopback in front of the emulator that counts what really reaches Cognito: per operation
 * (X-Amz-Target), and for InitiateAuth per AuthFlow, so that a sign-in (USER_PASSWORD_AUTH) and a refresh
 * (REFRESH_TOKEN_AUTH) are told apart.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class CountingProxy {
  private readonly counts = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(target: () => string): Promise<CountingProxy> {
    let proxy: CountingProxy | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const op = String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop();
        if (op) {
          proxy?.add(op);
          if (op === 'InitiateAuth') {
            let flow = '?';
            try {
              flow = String((JSON.parse(body.toString('utf8')) as { AuthFlow?: unknown }).AuthFlow);
            } catch {
              // Counted as InitiateAuth:?
            }
            proxy?.add(`InitiateAuth:${flow}`);
          }
        }
        const upstream = request(
          new URL(req.url ?? '/', target()),
          { method: req.method, headers: req.headers },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        upstream.on('error', () => {
          res.writeHead(502);
          res.end();
        });
        upstream.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    proxy = new CountingProxy(server, `http://127.0.0.1:${port}`);
    return proxy;
  }

  private add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Requests seen for an operation ("GetTokensFromRefreshToken") or an InitiateAuth flow ("InitiateAuth:REFRESH_TOKEN_AUTH"). */
  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Everything counted so far, e.g. for a report. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort());
  }

  reset(): void {
    this.counts.clear();
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
