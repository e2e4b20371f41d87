/**
 * Live updates over server-sent events. One poller per process asks Postgres for a change marker
 * (newest audit event, study and delivery change) every `pollMs` while at least one page is
 * open, and pushes `event: change` to every open page; sections re-fetch their fragment on it.
 * Postgres is the source of truth, so a page sees every change whichever role made it.
 */
import type { FastifyReply } from 'fastify';

export interface LiveHub {
  /** Take over the reply as an SSE stream until the client goes away. */
  attach(reply: FastifyReply): void;
  close(): void;
}

export function createLiveHub(opts: { pollMs: number; marker: () => Promise<string>; onError: (err: unknown) => void }): LiveHub {
  const clients = new Set<FastifyReply>();
  let timer: NodeJS.Timeout | null = null;
  let last: string | null = null;
  let ticks = 0;
  let polling = false;

  const send = (chunk: string) => {
    for (const c of clients) c.raw.write(chunk);
  };

  const tick = async () => {
    if (polling) return;
    polling = true;
    try {
      const m = await opts.marker();
      if (last !== null && m !== last) send(`event: change\ndata: ${m}\n\n`);
      last = m;
      // A comment every ~15 s keeps proxies from closing an idle stream.
      if (++ticks % Math.max(1, Math.round(15_000 / opts.pollMs)) === 0) send(': keep-alive\n\n');
    } catch (err) {
      opts.onError(err);
    } finally {
      polling = false;
    }
  };

  const stopIfIdle = () => {
    if (clients.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
      last = null;
    }
  };

  return {
    attach(reply) {
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      reply.raw.write(`retry: 3000\n\n`);
      clients.add(reply);
      reply.raw.on('close', () => {
        clients.delete(reply);
        stopIfIdle();
      });
      if (!timer) {
        timer = setInterval(() => void tick(), opts.pollMs);
        void tick();
      }
    },
    close() {
      if (timer) clearInterval(timer);
      timer = null;
      for (const c of clients) c.raw.end();
      clients.clear();
    },
  };
}
