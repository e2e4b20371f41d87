/**
 * One Prometheus registry and one set of readiness checks per process. Every role (scp, worker,
 * writer) registers its instruments, its queue/Postgres sources and its checks here, so `ldh
 * serve` with several roles answers /metrics and /readyz once, on one port, with no duplicate names.
 */
import { statfs } from 'node:fs/promises';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createLdhMetrics, type JobOutcome, type LdhMetrics } from './metrics.js';
import { withTimeout } from './with-timeout.js';

/** A readiness check: resolves when ready, throws (or rejects) with why not. */
export type ReadinessCheck = () => Promise<unknown>;

export interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

/** What `ldh_queue_jobs` needs of a queue (a BullMQ Queue fits). */
export interface QueueDepthSource {
  readonly name: string;
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
}

/** Counts of studies per state (from Postgres); states missing from the result count 0. */
export type StudiesByStateSource = () => Promise<Record<string, number>>;

export interface Observability {
  readonly registry: Registry;
  readonly metrics: LdhMetrics;
  /** Registers a readiness check under a unique name; returns its unregister function. */
  addReadinessCheck(name: string, check: ReadinessCheck, opts?: { timeoutMs?: number }): () => void;
  /** Queues whose depths `ldh_queue_jobs` reports (several roles may register the same queue name: read once). */
  addQueues(queues: readonly QueueDepthSource[]): () => void;
  /** The Postgres source of `ldh_studies` (the first one registered is used). */
  addStudiesSource(source: StudiesByStateSource): () => void;
  /** A directory whose filesystem `ldh_storage_free_bytes` / `ldh_storage_size_bytes` report. */
  addStorageDir(dir: string): () => void;
  /** Marks `role` as starting: /readyz answers 503 ("startup") until the returned function is called. */
  starting(role: string): () => void;
  /** Runs every check (in parallel, each bounded by its timeout). */
  runReadiness(): Promise<ReadinessReport>;
  /** Wraps a BullMQ processor so each attempt's duration lands in `ldh_job_duration_seconds{queue,outcome}`. */
  timeJob<A extends unknown[], R>(queue: string, processor: (...args: A) => Promise<R>): (...args: A) => Promise<R>;
}

export interface ObservabilityOptions {
  /** Node's default process metrics (CPU, memory, event loop lag, GC); default true. */
  defaultMetrics?: boolean;
  /** Default per-check timeout (ms); default 2000. */
  checkTimeoutMs?: number;
  /** Bound on reading queue depths or study counts on scrape (ms); default 2000. */
  collectTimeoutMs?: number;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A tiny multiset registry: add returns a remover; entries keep insertion order. */
function entries<T>() {
  const items = new Map<symbol, T>();
  return {
    add(item: T): () => void {
      const key = Symbol();
      items.set(key, item);
      return () => void items.delete(key);
    },
    values: () => [...items.values()],
  };
}

/** Creates a registry with every LDH instrument and its collectors; tests make one each, processes use {@link processObservability}. */
export function createObservability(opts: ObservabilityOptions = {}): Observability {
  const registry = new Registry();
  const checkTimeoutMs = opts.checkTimeoutMs ?? 2_000;
  const collectTimeoutMs = opts.collectTimeoutMs ?? 2_000;
  const checks = new Map<string, { check: ReadinessCheck; timeoutMs: number }>();
  const queues = entries<QueueDepthSource>();
  const studies = entries<StudiesByStateSource>();
  const storageDirs = entries<string>();
  const startingRoles = entries<string>();

  const runReadiness = async (): Promise<ReadinessReport> => {
    const out: Record<string, CheckResult> = {};
    const pending = startingRoles.values();
    if (pending.length > 0) out.startup = { ok: false, ms: 0, error: `starting: ${[...new Set(pending)].join(', ')}` };
    await Promise.all(
      [...checks].map(async ([name, { check, timeoutMs }]) => {
        const t0 = performance.now();
        try {
          await withTimeout(Promise.resolve().then(check), timeoutMs, name);
          out[name] = { ok: true, ms: Math.round(performance.now() - t0) };
        } catch (err) {
          out[name] = { ok: false, ms: Math.round(performance.now() - t0), error: message(err) };
        }
      }),
    );
    const sorted = Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
    return { ready: Object.values(out).every((c) => c.ok), checks: sorted };
  };

  const metrics = createLdhMetrics(registry, {
    async queues(gauge) {
      const byName = new Map<string, QueueDepthSource>();
      for (const q of queues.values()) if (!byName.has(q.name)) byName.set(q.name, q);
      gauge.reset();
      await Promise.all(
        [...byName.values()].map(async (q) => {
          try {
            const c = await withTimeout(q.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed'), collectTimeoutMs, `queue ${q.name}`);
            gauge.set({ queue: q.name, state: 'waiting' }, (c.waiting ?? 0) + (c.prioritized ?? 0));
            for (const state of ['active', 'delayed', 'failed'] as const) gauge.set({ queue: q.name, state }, c[state] ?? 0);
          } catch {
            // Redis unreachable: no series for this queue (absent, not a stale number); /readyz says why.
          }
        }),
      );
    },
    async studies(gauge) {
      const source = studies.values()[0];
      gauge.reset();
      if (!source) return;
      try {
        for (const [state, n] of Object.entries(await withTimeout(source(), collectTimeoutMs, 'studies by state'))) gauge.set({ state }, n);
      } catch {
        // Postgres unreachable: no series; /readyz says why.
      }
    },
    async storage(free, size) {
      const dir = storageDirs.values()[0];
      free.reset();
      size.reset();
      if (!dir) return;
      try {
        const s = await statfs(dir);
        free.set(s.bavail * s.bsize);
        size.set(s.blocks * s.bsize);
      } catch {
        // Directory gone: no series; the disk readiness check names the error.
      }
    },
    async readiness(gauge) {
      const report = await runReadiness();
      gauge.reset();
      for (const [name, r] of Object.entries(report.checks)) gauge.set({ check: name }, r.ok ? 1 : 0);
    },
  });
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  return {
    registry,
    metrics,
    addReadinessCheck(name, check, o = {}) {
      if (checks.has(name)) throw new Error(`readiness check "${name}" is already registered`);
      const entry = { check, timeoutMs: o.timeoutMs ?? checkTimeoutMs };
      checks.set(name, entry);
      return () => {
        if (checks.get(name) === entry) checks.delete(name);
      };
    },
    addQueues(qs) {
      const removers = qs.map((q) => queues.add(q));
      return () => removers.forEach((r) => r());
    },
    addStudiesSource: (source) => studies.add(source),
    addStorageDir: (dir) => storageDirs.add(dir),
    starting: (role) => startingRoles.add(role),
    runReadiness,
    timeJob(queue, processor) {
      return async (...args) => {
        const t0 = performance.now();
        let outcome: JobOutcome = 'failed';
        try {
          const r = await processor(...args);
          outcome = 'completed';
          return r;
        } catch (err) {
          // BullMQ's DelayedError: the job moved itself to delayed (e.g. a leased inference run), not a failure.
          if (err instanceof Error && err.name === 'DelayedError') outcome = 'delayed';
          throw err;
        } finally {
          metrics.jobDuration.observe({ queue, outcome }, (performance.now() - t0) / 1000);
        }
      };
    },
  };
}

let processWide: Observability | undefined;

/** The process-wide observability context (created on first use): one registry per process. */
export function processObservability(): Observability {
  processWide ??= createObservability();
  return processWide;
}
