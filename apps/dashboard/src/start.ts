import { statfs } from 'node:fs/promises';
import { Queue } from 'bullmq';
import { createLogger, rateLimitedLog, type Logger } from '@ldh/config';
import { createDb, type Db } from '@ldh/db';
import { changeMarker } from '@ldh/ops';
import { allContracts, createRedis } from '@ldh/queue';
import { createInstanceStore } from '@ldh/storage';
import { localAuthProvider, type AuthProvider } from './auth.js';
import type { DashboardEnv } from './env.js';
import { createLiveHub } from './live.js';
import { buildServer } from './server.js';
import type { OverviewData, QueueDepth } from './views/overview.js';

export interface RunningDashboard {
  /** The base URL it listens on, e.g. http://127.0.0.1:8080 */
  url: string;
  stop(): Promise<void>;
}

/**
 * Start the dashboard role: an HTTP server on LDH_DASHBOARD_HOST:LDH_DASHBOARD_PORT over the
 * same Postgres and queues as the other roles. It only reads, except for the admin actions
 * (replay, retry, discard), which go through @ldh/ops and are audited.
 */
export async function startDashboard(env: DashboardEnv, opts: { logger?: Logger; db?: Db; auth?: AuthProvider } = {}): Promise<RunningDashboard> {
  const logger = opts.logger ?? createLogger('ldh-dashboard', { level: env.LOG_LEVEL });
  const db = opts.db ?? createDb(env.DATABASE_URL);
  const store = await createInstanceStore({ rootDir: env.LDH_STORAGE_DIR, minFreeBytes: 0 });
  // A Redis outage must not break the pages (queue depths then show as unavailable), nor flood
  // the log: one rate-limited JSON line, from the connection and from each queue's error events.
  const redisErrors = rateLimitedLog(logger);
  const onError = (err: Error) => redisErrors('redis', { err: err.message }, 'redis connection error (queue depths unavailable; reconnecting with backoff)');
  const redis = createRedis(env.REDIS_URL, { onError });
  const queues = allContracts.map((c) => new Queue(c.queue, { connection: redis, prefix: env.LDH_QUEUE_PREFIX }));
  for (const q of queues) q.on('error', onError);
  const live = createLiveHub({ pollMs: env.LDH_DASHBOARD_LIVE_POLL_MS, marker: () => changeMarker(db), onError: (err) => logger.warn({ err: (err as Error).message }, 'live update poll failed') });

  const queueDepths = async (): Promise<QueueDepth[] | { error: string }> => {
    try {
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('Redis did not answer within 2 s')), 2_000).unref());
      return await Promise.race([
        Promise.all(
          queues.map(async (q) => {
            const c = await q.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
            return { queue: q.name, waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 };
          }),
        ),
        timeout,
      ]);
    } catch (err) {
      return { error: (err as Error).message };
    }
  };
  const disk = async (): Promise<OverviewData['disk']> => {
    try {
      const s = await statfs(env.LDH_STORAGE_DIR);
      const freeBytes = s.bavail * s.bsize;
      return { freeBytes, totalBytes: s.blocks * s.bsize, low: freeBytes < env.LDH_DASHBOARD_DISK_ALERT_BYTES };
    } catch (err) {
      return { error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
    }
  };

  const app = await buildServer({
    db,
    store,
    live,
    stuckAfterMs: env.LDH_DASHBOARD_STUCK_AFTER_MS,
    overviewExtras: async () => ({ queues: await queueDepths(), disk: await disk() }),
    auth: opts.auth ?? localAuthProvider(db),
    secret: env.LDH_DASHBOARD_SECRET,
    secureCookie: env.LDH_DASHBOARD_SECURE_COOKIE,
    sessionTtlS: env.LDH_DASHBOARD_SESSION_TTL_S,
    loginLimit: env.LDH_DASHBOARD_LOGIN_LIMIT,
    logger,
  });
  await app.listen({ host: env.LDH_DASHBOARD_HOST, port: env.LDH_DASHBOARD_PORT });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : env.LDH_DASHBOARD_PORT;
  const host = env.LDH_DASHBOARD_HOST.includes(':') ? `[${env.LDH_DASHBOARD_HOST}]` : env.LDH_DASHBOARD_HOST;
  const url = `http://${host}:${port}`;
  logger.info({ url, secureCookie: env.LDH_DASHBOARD_SECURE_COOKIE }, 'dashboard listening');
  return {
    url,
    async stop() {
      live.close();
      await app.close();
      await Promise.all(queues.map((q) => q.close()));
      redis.disconnect();
      if (!opts.db) await db.$disconnect();
      logger.info('dashboard stopped');
    },
  };
}
