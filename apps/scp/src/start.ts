import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { createLogger, rateLimitedLog, type Logger } from '@ldh/config';
import { probeDatabase, countStudiesByState, createDb, createIngestSink, reconcileInstanceStore, referencedSha256s, type Db } from '@ldh/db';
import { createStoreScp } from '@ldh/dicom';
import { diskSpaceCheck, startRoleObservability, type Observability, type RoleObservability } from '@ldh/observability';
import { closePipelineQueues, createPipelineQueues, startDispatcher, startReconciler, startSettler } from '@ldh/pipeline';
import { closeWithin, createRedis } from '@ldh/queue';
import { createInstanceStore } from '@ldh/storage';
import type { ScpEnv } from './env.js';

export interface RunningScp {
  port: number;
  stop(): Promise<void>;
}

export interface StartScpOptions {
  logger?: Logger;
  db?: Db;
  /** The process's shared observability (ldh serve); without it the role serves /metrics, /healthz, /readyz itself on LDH_HTTP_HOST:LDH_HTTP_PORT. */
  observability?: Observability;
}

/**
 * Start the SCP role: storage, Postgres-backed ingest sink, the DICOM listener and the study
 * settler. stop() closes in order: listener (drains in-flight C-STOREs), settler, queues, Redis,
 * Prisma, then its observability registrations (and its own HTTP server, if it started one).
 */
export async function startScp(env: ScpEnv, opts: StartScpOptions = {}): Promise<RunningScp> {
  const o = await startRoleObservability('scp', opts.observability, { host: env.LDH_HTTP_HOST, port: env.LDH_HTTP_PORT });
  try {
    return await startScpRole(env, opts, o);
  } catch (err) {
    await o.close();
    throw err;
  }
}

async function startScpRole(env: ScpEnv, opts: StartScpOptions, o: RoleObservability): Promise<RunningScp> {
  const logger = opts.logger ?? createLogger('ldh-scp', { level: env.LOG_LEVEL });
  const actor = `scp@${os.hostname()}:${process.pid}`;
  const db = opts.db ?? createDb(env.DATABASE_URL);
  const store = await createInstanceStore({ rootDir: env.LDH_STORAGE_DIR, minFreeBytes: env.LDH_MIN_FREE_BYTES });
  // Before receiving: staging files a crashed predecessor left behind go to their content address
  // when a row references them (possibly acknowledged), the rest are deleted (never acknowledged).
  const recovered = await store.recoverStaging((shas) => referencedSha256s(db, shas));
  if (recovered.restored.length > 0 || recovered.removed > 0) {
    logger.info({ restored: recovered.restored.length, removed: recovered.removed }, 'staging recovery');
  }
  // Then store vs Postgres: rows whose file is missing are marked and their study failed (never
  // processed with a hole), marked rows whose file is back are cleared (the study reopens when
  // nothing else is missing); objects no row references (never acknowledged) are removed.
  const reconciled = await reconcileInstanceStore(db, store, { actor });
  if (reconciled.missingFiles.length > 0) {
    logger.error({ missing: reconciled.missingFiles, failedStudies: reconciled.failedStudies }, 'instance files missing from the store');
  }
  if (reconciled.restoredFiles.length > 0) {
    logger.warn({ restored: reconciled.restoredFiles, reopenedStudies: reconciled.reopenedStudies }, 'instance files marked missing are back in the store');
  }
  logger.info(
    { rowsChecked: reconciled.rowsChecked, objectsChecked: reconciled.objectsChecked, orphansRemoved: reconciled.orphansRemoved.length, orphansKept: reconciled.orphansKept },
    'store reconciled',
  );
  const redisErrors = rateLimitedLog(logger);
  const redis = createRedis(env.REDIS_URL, { onError: (err) => redisErrors('redis', { err: err.message }, 'redis connection error (reconnecting with backoff)') });
  const queues = createPipelineQueues({ connection: redis, prefix: env.LDH_QUEUE_PREFIX });
  // Group-committing sink over its own small pg pool (far less CPU per instance than Prisma);
  // answers "overloaded" so the SCP sends 0xA700 when the database falls behind.
  const sink = createIngestSink(db, { actor, databaseUrl: env.DATABASE_URL });
  if (Array.isArray(env.LDH_ALLOWED_PEERS) && env.LDH_ALLOWED_PEERS.length === 0) {
    logger.warn('LDH_ALLOWED_PEERS is empty: every association will be rejected (set "AE@ip,..." or "*")');
  }
  const tls =
    env.LDH_SCP_TLS_CERT && env.LDH_SCP_TLS_KEY
      ? {
          cert: await readFile(env.LDH_SCP_TLS_CERT),
          key: await readFile(env.LDH_SCP_TLS_KEY),
          ...(env.LDH_SCP_TLS_CA ? { ca: await readFile(env.LDH_SCP_TLS_CA), requestClientCert: true } : {}),
        }
      : undefined;
  const scp = createStoreScp({
    aeTitle: env.LDH_AE_TITLE,
    host: env.LDH_SCP_HOST,
    port: env.LDH_SCP_PORT,
    store,
    sink,
    logger,
    ...(env.LDH_ALLOWED_PEERS === '*' ? {} : { allowList: env.LDH_ALLOWED_PEERS }),
    ...(tls ? { tls } : {}),
    maxAssociations: env.LDH_SCP_MAX_ASSOCIATIONS,
    maxPduLength: env.LDH_SCP_MAX_PDU,
    idleTimeoutMs: env.LDH_SCP_IDLE_TIMEOUT_MS,
    associationTimeoutMs: env.LDH_SCP_ARTIM_MS,
    minFreeBytes: env.LDH_MIN_FREE_BYTES,
    metrics: o.obs.metrics.scp,
  });
  const { port } = await scp.listen();
  const settler = startSettler({ db, queues, logger, actor }, { quietPeriodMs: env.LDH_QUIET_PERIOD_MS, ...(env.LDH_EARLY_SETTLE_MS > 0 ? { earlySettleMs: env.LDH_EARLY_SETTLE_MS } : {}) });
  // Postgres drives the jobs: pending intents go to BullMQ; lost jobs are re-created (invariant 8).
  const dispatcher = startDispatcher({ db, queues, logger });
  const reconciler = startReconciler({ db, queues, logger, actor }, { intervalMs: env.LDH_RECONCILE_INTERVAL_MS });
  o.track(o.obs.addReadinessCheck('scp.postgres', () => probeDatabase(db)));
  o.track(o.obs.addReadinessCheck('scp.redis', () => redis.ping()));
  o.track(o.obs.addReadinessCheck('scp.disk', diskSpaceCheck(env.LDH_STORAGE_DIR, env.LDH_MIN_FREE_BYTES)));
  o.track(
    o.obs.addReadinessCheck('scp.listening', async () => {
      if (!scp.listening) throw new Error('the DICOM listener is not listening');
    }),
  );
  o.track(o.obs.addQueues(Object.values(queues).map((q) => q.queue)));
  o.track(o.obs.addStudiesSource(() => countStudiesByState(db)));
  o.track(o.obs.addStorageDir(env.LDH_STORAGE_DIR));
  o.started();
  logger.info({ port, aeTitle: env.LDH_AE_TITLE, host: env.LDH_SCP_HOST, ...(o.server ? { httpPort: o.server.port } : {}), quietPeriodMs: env.LDH_QUIET_PERIOD_MS, earlySettleMs: env.LDH_EARLY_SETTLE_MS, tls: Boolean(tls) }, 'scp listening');
  return {
    port,
    async stop() {
      await scp.close();
      await sink.close();
      await store.close();
      await settler.stop();
      await reconciler.stop();
      await dispatcher.stop();
      await closeWithin(() => closePipelineQueues(queues), 2_000);
      redis.disconnect();
      if (!opts.db) await db.$disconnect();
      await o.close();
      logger.info('scp stopped');
    },
  };
}
