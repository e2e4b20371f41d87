import { performance } from 'node:perf_hooks';
import type { Logger } from '@ldh/config';
import { claimDueDeliveries, loadDeliveryForSend, recordDeliveryOutcome, type Db, type DeliveryOutcome } from '@ldh/db';
import type { InstanceStore } from '@ldh/storage';
import { nextRetry, type BackoffConfig } from './delivery-backoff.js';
import { sendByKind } from './delivery-senders.js';

export interface DeliverySchedulerOptions {
  db: Db;
  store: Pick<InstanceStore, 'pathOf'>;
  logger: Logger;
  /** Audit actor and claim owner, e.g. "writer@host:pid". */
  actor: string;
  callingAeTitle: string;
  /** Per-association network timeout (connect, accept, each response); default ACK/HTTP timeout of HL7/FHIR destinations. */
  timeoutMs: number;
  /** Manufacturer named with the algorithm in HL7/FHIR messages (the SR's LDH_MANUFACTURER). */
  manufacturer?: string;
  backoff: BackoffConfig;
  /** How often due rows are looked for. */
  pollMs: number;
  /** A `sending` claim older than this is taken over (its sender is presumed dead). */
  leaseMs: number;
  /** Sends in flight per destination (per writer process). */
  perDestinationConcurrency: number;
  /**
   * Called once per recorded attempt (the writer feeds `ldh_delivery_attempts_total` and
   * `ldh_delivery_failures_total`); `reason` is the failure's fixed kind (network, rejected, status-a7xx, ...).
   */
  onAttempt?: (attempt: { destination: string; outcome: DeliveryOutcome['outcome']; reason?: string }) => void;
}

export interface DeliveryScheduler {
  /** Look for due deliveries once and start their sends; resolves with how many were claimed. */
  tick(): Promise<number>;
  /** Resolves when every send started so far has recorded its outcome. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The delivery outbox sender: polls Postgres for due deliveries of each enabled destination,
 * claims them, sends each by its kind (SR/KOS over one association, SC, HL7 ORU, FHIR Bundle),
 * and records the outcome. Each
 * destination has its own concurrency budget, so a dead or slow PACS never delays another.
 */
export function startDeliveryScheduler(opts: DeliverySchedulerOptions, { autoStart = true } = {}): DeliveryScheduler {
  const inflight = new Map<string, Set<Promise<void>>>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<number> | undefined;

  const tickOnce = async (): Promise<number> => {
    const destinations = await opts.db.destination.findMany({ where: { enabled: true }, select: { id: true } });
    let claimed = 0;
    for (const dest of destinations) {
      const running = inflight.get(dest.id) ?? new Set();
      inflight.set(dest.id, running);
      const free = opts.perDestinationConcurrency - running.size;
      if (free <= 0 || stopped) continue;
      const rows = await claimDueDeliveries(opts.db, { destinationId: dest.id, limit: free, owner: opts.actor, leaseMs: opts.leaseMs, actor: opts.actor });
      claimed += rows.length;
      for (const row of rows) {
        if (row.reclaimed) opts.logger.warn({ deliveryId: row.id }, 'delivery claim expired; reclaimed');
        const p: Promise<void> = sendClaimedDelivery(opts, row.id)
          .then(() => undefined)
          .catch((err: Error) => opts.logger.error({ deliveryId: row.id, err: err.message }, 'delivery outcome not recorded; the claim will expire and be retried'))
          .finally(() => running.delete(p));
        running.add(p);
      }
    }
    return claimed;
  };

  const tick = (): Promise<number> => {
    ticking ??= tickOnce().finally(() => (ticking = undefined));
    return ticking;
  };

  const loop = () => {
    if (stopped) return;
    tick()
      .catch((err: Error) => opts.logger.error({ err: err.message }, 'delivery scheduler tick failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, opts.pollMs);
      });
  };
  if (autoStart) loop();

  const idle = async () => {
    for (;;) {
      const all = [...inflight.values()].flatMap((s) => [...s]);
      if (all.length === 0) return;
      await Promise.allSettled(all);
    }
  };
  return {
    tick,
    idle,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await ticking?.catch(() => undefined);
      await idle();
    },
  };
}

/** Send one claimed delivery (by its kind) and record what happened: delivered, failed with a retry time, dead, or not applicable. */
export async function sendClaimedDelivery(opts: DeliverySchedulerOptions, deliveryId: string): Promise<DeliveryOutcome['outcome'] | 'claim-lost'> {
  const d = await loadDeliveryForSend(opts.db, deliveryId);
  const t0 = performance.now();
  const sent = await sendByKind(opts, d);
  const durationMs = Math.round(performance.now() - t0);
  const base = { deliveryId, owner: opts.actor, actor: opts.actor, durationMs };
  let outcome: DeliveryOutcome;
  if ('notApplicable' in sent) outcome = { outcome: 'not_applicable', reason: sent.notApplicable };
  else if (sent.ok) outcome = { outcome: 'delivered' };
  else if (sent.permanent) outcome = { outcome: 'dead', error: sent.reason, status: sent.status ?? null };
  else {
    const retry = nextRetry({ failures: d.attempts + 1, firstAttemptAt: d.firstAttemptAt ?? d.createdAt, now: new Date() }, opts.backoff);
    outcome = retry.giveUp
      ? { outcome: 'dead', error: `gave up after ${Math.round(opts.backoff.giveUpAfterMs / 1000)} s and ${d.attempts + 1} attempts: ${sent.reason}`, status: sent.status ?? null }
      : { outcome: 'failed', error: sent.reason, status: sent.status ?? null, nextAttemptAt: retry.nextAttemptAt };
  }
  const recorded = await recordDeliveryOutcome(opts.db, { ...base, ...outcome });
  const log = { deliveryId, destination: d.destination.name, kind: d.kind, studyInstanceUid: d.report.study.studyInstanceUid, attempt: d.attempts + 1, durationMs };
  if (!recorded) {
    opts.logger.warn(log, 'delivery claim was taken over while sending; outcome dropped');
    return 'claim-lost';
  }
  opts.onAttempt?.({ destination: d.destination.name, outcome: outcome.outcome, ...('ok' in sent && !sent.ok ? { reason: sent.kind ?? (sent.permanent ? 'rejected' : 'transient') } : {}) });
  if (outcome.outcome === 'delivered') opts.logger.info(log, 'delivered');
  else if (outcome.outcome === 'not_applicable') opts.logger.info({ ...log, reason: outcome.reason }, 'delivery not applicable');
  else opts.logger.warn({ ...log, outcome: outcome.outcome, err: outcome.error, ...(outcome.outcome === 'failed' ? { nextAttemptAt: outcome.nextAttemptAt } : {}) }, 'delivery failed');
  return outcome.outcome;
}
