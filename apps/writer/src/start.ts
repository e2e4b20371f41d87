import os from 'node:os';
import { createLogger, type Logger } from '@ldh/config';
import { createDb, syncDestinations, type Db } from '@ldh/db';
import { closePipelineQueues, createPipelineQueues, failStudiesOnFinalFailure, runReportJob, startDeliveryScheduler, type DeliveryScheduler } from '@ldh/pipeline';
import { createContractWorker, createRedis, reportJob, type Worker } from '@ldh/queue';
import { createInstanceStore } from '@ldh/storage';
import type { WriterEnv } from './env.js';

export const SOFTWARE_VERSION = '0.1.0';

export interface RunningWriter {
  stop(): Promise<void>;
  /** The delivery outbox sender (tests drive it with tick()/idle()). */
  deliveries: DeliveryScheduler;
}

/**
 * Start the writer role: the report queue (SR + KOS + outbox rows) and the delivery scheduler,
 * which sends the outbox rows from Postgres (no Redis involved: a Redis loss cannot lose one).
 * When any of LDH_DESTINATIONS / LDH_HL7_DESTINATIONS / LDH_FHIR_DESTINATIONS is set, destinations
 * in none of them are disabled (audited).
 */
export async function startWriter(env: WriterEnv, opts: { logger?: Logger; db?: Db } = {}): Promise<RunningWriter> {
  const logger = opts.logger ?? createLogger('ldh-writer', { level: env.LOG_LEVEL });
  const actor = `writer@${os.hostname()}:${process.pid}`;
  const db = opts.db ?? createDb(env.DATABASE_URL);
  const configured = [...(env.LDH_DESTINATIONS ?? []), ...(env.LDH_HL7_DESTINATIONS ?? []), ...(env.LDH_FHIR_DESTINATIONS ?? [])];
  if (env.LDH_DESTINATIONS || env.LDH_HL7_DESTINATIONS || env.LDH_FHIR_DESTINATIONS) {
    const sync = await syncDestinations(db, configured, actor);
    if (sync.disabled.length > 0) logger.warn({ disabled: sync.disabled }, 'destinations no longer configured were disabled (their pending deliveries are kept, not sent)');
  }
  const store = await createInstanceStore({ rootDir: env.LDH_STORAGE_DIR, minFreeBytes: 0 });
  const producer = createRedis(env.REDIS_URL);
  const queues = createPipelineQueues({ connection: producer, prefix: env.LDH_QUEUE_PREFIX });
  const deps = { db, store, queues, logger, actor };
  const ctx = { connection: createRedis(env.REDIS_URL, { forWorker: true }), prefix: env.LDH_QUEUE_PREFIX };
  const workers: Worker[] = [
    createContractWorker(reportJob, ctx, (p) => runReportJob(p, { ...deps, identity: { manufacturer: env.LDH_MANUFACTURER, softwareVersion: SOFTWARE_VERSION } }), { concurrency: 2 }),
  ];
  for (const w of workers) {
    // The last failure of a job fails its study with the stage and the reason (invariant 8).
    failStudiesOnFinalFailure(w, deps);
    w.on('error', (err) => logger.error({ queue: w.name, err: err.message }, 'worker error'));
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
  });
  logger.info({ destinations: configured.map((d) => `${d.name} (${'protocol' in d ? d.protocol : 'dicom'})`) }, 'writer started');
  return {
    deliveries,
    async stop() {
      await deliveries.stop();
      await Promise.all(workers.map((w) => w.close()));
      await closePipelineQueues(queues);
      ctx.connection.disconnect();
      producer.disconnect();
      if (!opts.db) await db.$disconnect();
      logger.info('writer stopped');
    },
  };
}
