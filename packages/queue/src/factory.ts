import { Queue, Worker, UnrecoverableError, type Job, type WorkerOptions, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { z } from 'zod';
import type { JobContract } from './contracts.js';

/**
 * One ioredis connection per role. BullMQ workers need `maxRetriesPerRequest: null` so a Redis
 * blip blocks and resumes instead of failing jobs. Reconnects back off exponentially (to 10 s);
 * connection errors go to `onError` (the role's rate-limited log), never to ioredis' own
 * "Unhandled error event" stack trace on stderr.
 */
export function createRedis(url: string, opts: { forWorker?: boolean; onError?: (err: Error) => void } = {}): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: opts.forWorker ? null : 3,
    enableReadyCheck: true,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 10), 10_000),
  });
  redis.on('error', opts.onError ?? (() => undefined));
  return redis;
}

/**
 * Close BullMQ workers within `graceMs`: a graceful close waits for the running jobs, but with
 * Redis down it never resolves, so after the grace period the workers are force-closed (their
 * jobs become stalled and are retried by whichever worker runs next) and their connections dropped.
 */
export async function closeWorkers(workers: Worker[], graceMs = 5_000): Promise<'graceful' | 'forced'> {
  let timer: NodeJS.Timeout | undefined;
  const graceful = Promise.all(workers.map((w) => w.close())).then(() => 'graceful' as const);
  const timeout = new Promise<'forced'>((resolve) => (timer = setTimeout(() => resolve('forced'), graceMs)));
  const outcome = await Promise.race([graceful.catch(() => 'forced' as const), timeout]);
  clearTimeout(timer);
  if (outcome === 'forced') {
    await Promise.race([Promise.allSettled(workers.map((w) => w.close(true))), new Promise((r) => setTimeout(r, 1_000))]);
    for (const w of workers) void w.disconnect().catch(() => undefined);
  }
  return outcome;
}

/** Run `close` but give up after `ms` (closing a queue waits on a Redis that may be gone). */
export async function closeWithin(close: () => Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([close().then(() => true, () => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)))]);
  clearTimeout(timer);
  return done;
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
    // Connection errors are reported (rate-limited) by the connection's owner (createRedis onError);
    // without a listener here BullMQ re-emits them as unhandled 'error' events.
    this.queue.on('error', () => undefined);
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

/**
 * Delete every key under `prefix:` (a finished demo's or test's queues) with SCAN, never KEYS,
 * so a shared Redis is left as it was found. Returns how many keys were deleted.
 */
export async function deletePrefixKeys(url: string, prefix: string): Promise<number> {
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) throw new Error(`refusing to delete keys of prefix "${prefix}"`);
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  r.on('error', () => undefined);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return deleted;
}
