import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createScpMetrics, type ScpMetrics } from './scp-metrics.js';

/** Queue states reported by `ldh_queue_jobs` ("waiting" includes BullMQ's prioritized jobs). */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** How a job attempt ended: completed, failed (this attempt; BullMQ may retry), or delayed (waits without spending an attempt). */
export type JobOutcome = 'completed' | 'failed' | 'delayed';

/**
 * Every instrument of the LDH roles. Collected gauges (queue depths, studies by state, storage
 * free space, readiness) are filled on scrape by the sources roles register (see Observability).
 * Label values are fixed vocabularies or configured names (queue, destination, provider), never PHI.
 */
export interface LdhMetrics {
  scp: ScpMetrics;
  /** Gauge `ldh_queue_jobs{queue,state}`, collected from BullMQ on scrape. */
  queueJobs: Gauge<'queue' | 'state'>;
  jobDuration: Histogram<'queue' | 'outcome'>;
  inferenceDuration: Histogram<'provider'>;
  inferenceImages: Counter<'provider'>;
  deliveryAttempts: Counter<'destination' | 'outcome'>;
  deliveryFailures: Counter<'destination' | 'reason'>;
  /** Gauge `ldh_studies{state}`, collected from Postgres on scrape. */
  studies: Gauge<'state'>;
  storageFreeBytes: Gauge;
  storageSizeBytes: Gauge;
  readinessCheck: Gauge<'check'>;
  modelInfo: Gauge<'model' | 'version' | 'provider' | 'placeholder'>;
}

/** Creates every LDH instrument in `registry` (call once per registry: names must be unique). */
export function createLdhMetrics(registry: Registry, collect: {
  queues: (g: Gauge<'queue' | 'state'>) => Promise<void>;
  studies: (g: Gauge<'state'>) => Promise<void>;
  storage: (free: Gauge, size: Gauge) => Promise<void>;
  readiness: (g: Gauge<'check'>) => Promise<void>;
}): LdhMetrics {
  const registers = [registry];
  // prom-client awaits a gauge's collect() before serialising it; `this` is the gauge.
  // Both storage gauges read the filesystem in their own collect(), so neither lags a scrape.
  const storageSizeBytes: Gauge = new Gauge({
    name: 'ldh_storage_size_bytes',
    help: 'Size of the filesystem holding LDH_STORAGE_DIR',
    registers,
    async collect() {
      await collect.storage(storageFreeBytes, this);
    },
  });
  const storageFreeBytes: Gauge = new Gauge({
    name: 'ldh_storage_free_bytes',
    help: 'Free bytes (available to this process) on the filesystem holding LDH_STORAGE_DIR',
    registers,
    async collect() {
      await collect.storage(this, storageSizeBytes);
    },
  });
  return {
    scp: createScpMetrics(registry),
    queueJobs: new Gauge({
      name: 'ldh_queue_jobs',
      help: 'Jobs per BullMQ queue and state (waiting includes prioritized), read on scrape',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        await collect.queues(this);
      },
    }),
    jobDuration: new Histogram({
      name: 'ldh_job_duration_seconds',
      help: 'Duration of one job attempt by queue and outcome (completed, failed, delayed)',
      labelNames: ['queue', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    inferenceDuration: new Histogram({
      name: 'ldh_inference_duration_seconds',
      help: 'Model inference of one study (all its selected images, batched) by execution provider',
      labelNames: ['provider'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120],
      registers,
    }),
    inferenceImages: new Counter({
      name: 'ldh_inference_images_total',
      help: 'Images classified by execution provider',
      labelNames: ['provider'],
      registers,
    }),
    deliveryAttempts: new Counter({
      name: 'ldh_delivery_attempts_total',
      help: 'Report delivery attempts by destination and outcome (delivered, failed: will retry, dead)',
      labelNames: ['destination', 'outcome'],
      registers,
    }),
    deliveryFailures: new Counter({
      name: 'ldh_delivery_failures_total',
      help: 'Failed delivery attempts by destination and reason (the store-failure kind, e.g. network, rejected, status-a7xx)',
      labelNames: ['destination', 'reason'],
      registers,
    }),
    studies: new Gauge({
      name: 'ldh_studies',
      help: 'Studies by state, read from Postgres on scrape',
      labelNames: ['state'],
      registers,
      async collect() {
        await collect.studies(this);
      },
    }),
    storageFreeBytes,
    storageSizeBytes,
    readinessCheck: new Gauge({
      name: 'ldh_readiness_check',
      help: 'Readiness checks run on scrape: 1 ok, 0 failing (what /readyz answers)',
      labelNames: ['check'],
      registers,
      async collect() {
        await collect.readiness(this);
      },
    }),
    modelInfo: new Gauge({
      name: 'ldh_model_info',
      help: 'The loaded model (1 while loaded): card name, version, execution provider, placeholder',
      labelNames: ['model', 'version', 'provider', 'placeholder'],
      registers,
    }),
  };
}
