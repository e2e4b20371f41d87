import { Queue, Worker, UnrecoverableError, type Job, type WorkerOptions, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { z } from 'zod';
import type { JobContract } from './contracts.js';

/**
 * One ioredis connection per role. BullMQ workers need `maxRetriesPerRequest: null` so a Redis
 * blip blocks and resumes instead of failing jobs.
 */
export function createRedis(url: string, opts: { forWorker?: boolean } = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: opts.forWorker ? null : 3,
    enableReadyCheck: true,
    lazyConnect: false,
  });
}

export interface QueueContext {
  connection: ConnectionOptions;
  prefix: string;
}

/** A typed producer: payloads are validated against the contract before they reach Redis. */
export class ContractQueue<S extends z.ZodType> {
  readonly queue: Queue;
  constructor(
    readonly contract: JobContract<S>,
    ctx: QueueContext,
  ) {
    this.queue = new Queue(contract.queue, { connection: ctx.connection, prefix: ctx.prefix, defaultJobOptions: contract.defaults });
  }

  /** Enqueue; `jobId` makes it idempotent (BullMQ ignores a second add with a live id). */
  async add(payload: z.infer<S>, opts: { jobId?: string; priority?: number; delay?: number } = {}): Promise<Job> {
    const data = this.contract.schema.parse(payload);
    return this.queue.add(this.contract.queue, data, {
      ...(opts.jobId ? { jobId: opts.jobId } : {}),
      ...(opts.priority ? { priority: opts.priority } : {}),
      ...(opts.delay ? { delay: opts.delay } : {}),
    });
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

/**
 * A worker for one contract. The payload is parsed first: a malformed job is an
 * UnrecoverableError (no retries, kept in failed with its reason) rather than a crash.
 */
export function createContractWorker<S extends z.ZodType>(
  contract: JobContract<S>,
  ctx: QueueContext,
  handler: (payload: z.infer<S>, job: Job, token?: string) => Promise<unknown>,
  opts: Partial<WorkerOptions> = {},
): Worker {
  return new Worker(
    contract.queue,
    async (job: Job, token?: string) => {
      const parsed = contract.schema.safeParse(job.data);
      if (!parsed.success) {
        throw new UnrecoverableError(`invalid ${contract.queue} payload: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      }
      return handler(parsed.data, job, token);
    },
    { connection: ctx.connection, prefix: ctx.prefix, concurrency: 1, ...opts },
  );
}

/** True when this failure was the job's last attempt (BullMQ will not retry it). */
export function isFinalAttempt(job: Job, err: Error): boolean {
  return err instanceof UnrecoverableError || err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
}

/** BullMQ job states in which a job will still run (or is running). */
export const LIVE_JOB_STATES: ReadonlySet<string> = new Set(['waiting', 'wait', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused']);

/** True when Redis answers PING at `url` within `timeoutMs`. */
export async function pingRedis(url: string, timeoutMs = 2_000): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}
