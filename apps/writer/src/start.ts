import os from 'node:os';
import { createLogger, rateLimitedLog, type Logger } from '@ldh/config';
import { probeDatabase, countStudiesByState, createDb, syncDestinations, type Db } from '@ldh/db';
import { startRoleObservability, type Observability, type RoleObservability } from '@ldh/observability';
import { closePipelineQueues, createPipelineQueues, failStudiesOnFinalFailure, runReportJob, startDeliveryScheduler, type DeliveryScheduler } from '@ldh/pipeline';
import { closeWithin, closeWorkers, createContractWorker, createRedis, reportJob, type Worker } from '@ldh/queue';
import { createInstanceStore } from '@ldh/storage';
import type { WriterEnv } from './env.js';

export const SOFTWARE_VERSION = '0.1.0';

export interface RunningWriter {
  stop(): Promise<void>;
  /** The delivery outbox sender (tests drive it with tick()/idle()). */
  deliveries: DeliveryScheduler;
}

export interface StartWriterOptions {
  logger?: Logger;
  db?: Db;
  /** The process's shared observability (ldh serve); without it the role serves /metrics, /healthz, /readyz itself on LDH_HTTP_HOST:LDH_HTTP_PORT. */
  observability?: Observability;
}

/**
 * Start the writer role: the report queue (SR + KOS + outbox rows) and the delivery scheduler,
 * which sends the outbox rows from Postgres (no Redis involved: a Redis loss cannot lose one).
 * When any of LDH_DESTINATIONS / LDH_HL7_DESTINATIONS / LDH_FHIR_DESTINATIONS is set, destinations
 * in none of them are disabled (audited).
 */
export async function startWriter(env: WriterEnv, opts: StartWriterOptions = {}): Promise<RunningWriter> {
  const o = await startRoleObservability('writer', opts.observability, { host: env.LDH_HTTP_HOST, port: env.LDH_HTTP_PORT });
  try {
    return await startWriterRole(env, opts, o);
  } catch (err) {
    await o.close();
    throw err;
  }
}

async function startWriterRole(env: WriterEnv, opts: StartWriterOptions, o: RoleObservability): Promise<RunningWriter> {
  const logger = opts.logger ?? createLogger('ldh-writer', { level: env.LOG_LEVEL });
  const actor = `writer@${os.hostname()}:${process.pid}`;
  const db = opts.db ?? createDb(env.DATABASE_URL);
  const configured = [...(env.LDH_DESTINATIONS ?? []), ...(env.LDH_HL7_DESTINATIONS ?? []), ...(env.LDH_FHIR_DESTINATIONS ?? [])];
  if (env.LDH_DESTINATIONS || env.LDH_HL7_DESTINATIONS || env.LDH_FHIR_DESTINATIONS) {
    const sync = await syncDestinations(db, configured, actor);
    if (sync.disabled.length > 0) logger.warn({ disabled: sync.disabled }, 'destinations no longer configured were disabled (their pending deliveries are kept, not sent)');
  }
  const store = await createInstanceStore({ rootDir: env.LDH_STORAGE_DIR, minFreeBytes: 0 });
  // Redis trouble is one rate-limited line per 30 s, not one per reconnect attempt per connection.
  const redisErrors = rateLimitedLog(logger);
  const onError = (err: Error) => redisErrors('redis', { err: err.message }, 'redis connection error (reconnecting with backoff)');
  const producer = createRedis(env.REDIS_URL, { onError });
  const queues = createPipelineQueues({ connection: producer, prefix: env.LDH_QUEUE_PREFIX });
  const deps = { db, store, queues, logger, actor };
  const ctx = { connection: createRedis(env.REDIS_URL, { forWorker: true, onError }), prefix: env.LDH_QUEUE_PREFIX };
  const workers: Worker[] = [
    createContractWorker(reportJob, ctx, o.obs.timeJob(reportJob.queue, (p) => runReportJob(p, { ...deps, identity: { manufacturer: env.LDH_MANUFACTURER, softwareVersion: SOFTWARE_VERSION }, scSummary: env.LDH_SC_SUMMARY })), { concurrency: 2 }),
  ];
  for (const w of workers) {
    // The last failure of a job fails its study with the stage and the reason (invariant 8).
    failStudiesOnFinalFailure(w, deps);
    w.on('error', (err) => redisErrors(`worker:${w.name}`, { queue: w.name, err: err.message }, 'worker error'));
  }
  const deliveries = startDeliveryScheduler({
    db,
    store,
    logger,
    actor,
    callingAeTitle: env.LDH_AE_TITLE,
    timeoutMs: env.LDH_DELIVERY_TIMEOUT_MS,
    manufacturer: env.LDH_MANUFACTURER,
    backoff: { baseMs: env.LDH_DELIVERY_BACKOFF_BASE_MS, maxMs: env.LDH_DELIVERY_BACKOFF_MAX_MS, giveUpAfterMs: env.LDH_DELIVERY_GIVE_UP_AFTER },
    pollMs: env.LDH_DELIVERY_POLL_MS,
    leaseMs: env.LDH_DELIVERY_LEASE_MS,
    perDestinationConcurrency: env.LDH_DELIVERY_CONCURRENCY,
    onAttempt: ({ destination, outcome, reason }) => {
      o.obs.metrics.deliveryAttempts.inc({ destination, outcome });
      if (reason) o.obs.metrics.deliveryFailures.inc({ destination, reason });
    },
  });
  o.track(o.obs.addReadinessCheck('writer.postgres', () => probeDatabase(db)));
  o.track(o.obs.addReadinessCheck('writer.redis', () => producer.ping()));
  o.track(o.obs.addQueues(Object.values(queues).map((q) => q.queue)));
  o.track(o.obs.addStudiesSource(() => countStudiesByState(db)));
  o.track(o.obs.addStorageDir(env.LDH_STORAGE_DIR));
  o.started();
  logger.info({ destinations: configured.map((d) => `${d.name} (${'protocol' in d ? d.protocol : 'dicom'})`) }, 'writer started');
  return {
    deliveries,
    async stop() {
      await deliveries.stop();
      // Graceful first (running jobs finish); forced when Redis is gone and close() would never resolve.
      const closed = await closeWorkers(workers, 5_000);
      if (closed === 'forced') logger.warn('workers force-closed (Redis unreachable or jobs still running); their jobs will be retried');
      await closeWithin(() => closePipelineQueues(queues), 2_000);
      ctx.connection.disconnect();
      producer.disconnect();
      if (!opts.db) await db.$disconnect();
      await o.close();
      logger.info('writer stopped');
    },
  };
}
