/**
 * /metrics, /healthz and /readyz on plain node:http. Three read-only GET routes with no bodies,
 * cookies or sessions need no framework: node:http keeps every role (the SCP included) free of a
 * web stack and starts in microseconds. The dashboard, which has forms, sessions and CSRF, uses Fastify.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { ReadinessReport } from './observability.js';

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port (tests); read the bound one from `port`. */
  port: number;
  registry: Registry;
  /** The readiness checks (normally `observability.runReadiness`). */
  checks: () => Promise<ReadinessReport>;
}

export interface RunningHttpServer {
  readonly host: string;
  readonly port: number;
  /** Base URL, e.g. http://127.0.0.1:9464 (0.0.0.0 is reported as 127.0.0.1). */
  readonly url: string;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, contentType: string, body: string, head: boolean): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}

const json = (res: http.ServerResponse, status: number, value: unknown, head: boolean) => send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), head);

/** Starts the observability endpoints; rejects when the port cannot be bound (e.g. EADDRINUSE), naming it. */
export async function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const server = http.createServer((req, res) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('allow', 'GET, HEAD');
      json(res, 405, { error: 'method not allowed' }, head);
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    const handle = async () => {
      switch (path) {
        case '/metrics':
          return send(res, 200, opts.registry.contentType, await opts.registry.metrics(), head);
        case '/healthz':
          return json(res, 200, { status: 'ok' }, head);
        case '/readyz': {
          const report = await opts.checks();
          const failed = Object.entries(report.checks).filter(([, c]) => !c.ok).map(([name]) => name);
          return json(res, report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'unready', ...(failed.length ? { failed } : {}), checks: report.checks }, head);
        }
        default:
          return json(res, 404, { error: 'not found', endpoints: ['/metrics', '/healthz', '/readyz'] }, head);
      }
    };
    handle().catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: err instanceof Error ? err.message : String(err) }, head);
      else res.destroy();
    });
  });
  // Probes use short-lived connections; do not let an idle keep-alive delay shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${opts.host}:${opts.port} for /metrics, /healthz, /readyz (LDH_HTTP_HOST/LDH_HTTP_PORT): ${err.code ?? err.message}`));
    server.once('error', onError);
    server.listen(opts.port, opts.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    host: opts.host,
    port,
    url: `http://${shownHost}:${port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
    },
  };
}
