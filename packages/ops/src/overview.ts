/**
 * The dashboard's overview numbers, from Postgres only: studies by state (now and entered in the
 * last 24 h), throughput, each stage's median and p95 duration from the audit trail, and the
 * alerts an admin acts on (stuck studies, dead deliveries, destinations down, model state).
 */
import type { Db, StudyState } from '@ldh/db';

/** States a study waits in for a worker; a study here for long is stuck. */
export const ACTIVE_STATES = ['settled', 'routed', 'inferring', 'reporting', 'delivering'] as const satisfies readonly StudyState[];

export interface StageDuration {
  state: string;
  count: number;
  medianMs: number;
  p95Ms: number;
}

export interface Overview {
  byState: Record<string, number>;
  /** States entered in the last 24 h (audit events), by state. */
  entered24h: Record<string, number>;
  throughput: { doneLastHour: number; doneLast24h: number; receivedLast24h: number };
  stageDurations: StageDuration[];
  stuck: Array<{ studyInstanceUid: string; state: string; since: string }>;
  deadDeliveries: number;
  failedStudies: number;
}

/**
 * Overview at `now`. Stage durations: each state a study entered in the last 24 h, until the
 * next state change of the same study (LEAD over its audit events); the current state is not counted.
 */
export async function overview(db: Db, opts: { now?: Date; stuckAfterMs?: number } = {}): Promise<Overview> {
  const now = opts.now ?? new Date();
  const dayAgo = new Date(now.getTime() - 86_400_000);
  const hourAgo = new Date(now.getTime() - 3_600_000);
  const stuckBefore = new Date(now.getTime() - (opts.stuckAfterMs ?? 15 * 60_000));
  const [byState, entered, doneHour, doneDay, received, durations, stuck, dead, failed] = await Promise.all([
    db.study.groupBy({ by: ['state'], _count: { _all: true } }),
    db.$queryRaw<Array<{ state: string; n: bigint }>>`
      SELECT substring(action from 7) AS state, count(*) AS n FROM "AuditEvent"
      WHERE "entityType" = 'study' AND action LIKE 'study.%' AND at >= ${dayAgo} GROUP BY 1`,
    db.auditEvent.count({ where: { entityType: 'study', action: 'study.done', at: { gte: hourAgo } } }),
    db.auditEvent.count({ where: { entityType: 'study', action: 'study.done', at: { gte: dayAgo } } }),
    db.study.count({ where: { firstInstanceAt: { gte: dayAgo } } }),
    db.$queryRaw<Array<{ state: string; n: bigint; median: number; p95: number }>>`
      WITH ev AS (
        SELECT "studyInstanceUid" AS uid, at, COALESCE(details->>'to', substring(action from 7)) AS state
        FROM "AuditEvent" WHERE "entityType" = 'study' AND action LIKE 'study.%' AND "studyInstanceUid" IS NOT NULL AND at >= ${dayAgo}
      ), spans AS (
        SELECT state, EXTRACT(EPOCH FROM (LEAD(at) OVER (PARTITION BY uid ORDER BY at) - at)) * 1000 AS ms FROM ev
      )
      SELECT state, count(*) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS median, percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95
      FROM spans WHERE ms IS NOT NULL GROUP BY state ORDER BY state`,
    db.study.findMany({ where: { state: { in: [...ACTIVE_STATES] }, updatedAt: { lt: stuckBefore } }, orderBy: { updatedAt: 'asc' }, take: 50, select: { studyInstanceUid: true, state: true, updatedAt: true } }),
    db.delivery.count({ where: { state: 'dead', discardedAt: null } }),
    db.study.count({ where: { state: 'failed' } }),
  ]);
  const order = ['receiving', 'settled', 'routed', 'inferring', 'reporting', 'delivering', 'done', 'skipped', 'failed', 'delivery_failed'];
  return {
    byState: Object.fromEntries(byState.map((r) => [r.state, r._count._all])),
    entered24h: Object.fromEntries(entered.filter((r) => order.includes(r.state)).map((r) => [r.state, Number(r.n)])),
    throughput: { doneLastHour: doneHour, doneLast24h: doneDay, receivedLast24h: received },
    stageDurations: durations
      .filter((d) => order.includes(d.state))
      .sort((a, b) => order.indexOf(a.state) - order.indexOf(b.state))
      .map((d) => ({ state: d.state, count: Number(d.n), medianMs: Math.round(Number(d.median)), p95Ms: Math.round(Number(d.p95)) })),
    stuck: stuck.map((s) => ({ studyInstanceUid: s.studyInstanceUid, state: s.state, since: s.updatedAt.toISOString() })),
    deadDeliveries: dead,
    failedStudies: failed,
  };
}

export interface DestinationHealth {
  name: string;
  /** dicom | hl7 | fhir, and what it receives (sr, kos, sc, hl7, fhir). */
  protocol: string;
  sends: string[];
  /** DICOM destinations only. */
  aeTitle: string | null;
  host: string;
  port: number;
  tls: boolean;
  enabled: boolean;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  lastError: string | null;
  pending: number;
  retrying: number;
  dead: number;
  /** Its latest outcome was a failure (no success since). */
  down: boolean;
}

/** Every destination with its last success, last failure and outbox counts. */
export async function destinationHealth(db: Db): Promise<DestinationHealth[]> {
  const [dests, counts, lastOk, lastFail] = await Promise.all([
    db.destination.findMany({ orderBy: { name: 'asc' } }),
    db.delivery.groupBy({ by: ['destinationId', 'state'], where: { discardedAt: null }, _count: { _all: true } }),
    db.delivery.groupBy({ by: ['destinationId'], where: { state: 'delivered' }, _max: { deliveredAt: true } }),
    db.delivery.findMany({ where: { state: { in: ['failed', 'dead'] }, lastError: { not: null } }, orderBy: { updatedAt: 'desc' }, distinct: ['destinationId'], select: { destinationId: true, updatedAt: true, lastError: true } }),
  ]);
  return dests.map((d) => {
    const n = (state: string) => counts.find((c) => c.destinationId === d.id && c.state === state)?._count._all ?? 0;
    const ok = lastOk.find((r) => r.destinationId === d.id)?._max.deliveredAt ?? null;
    const fail = lastFail.find((r) => r.destinationId === d.id) ?? null;
    return {
      name: d.name,
      protocol: d.protocol,
      sends: d.sends,
      aeTitle: d.aeTitle,
      host: d.host,
      port: d.port,
      tls: d.tls,
      enabled: d.enabled,
      lastSuccessAt: ok?.toISOString() ?? null,
      lastFailureAt: fail?.updatedAt.toISOString() ?? null,
      lastError: fail?.lastError ?? null,
      pending: n('pending') + n('sending'),
      retrying: n('failed'),
      dead: n('dead'),
      down: d.enabled && fail !== null && (ok === null || fail.updatedAt > ok),
    };
  });
}

export interface ModelInfo {
  name: string;
  version: string;
  sha256: string;
  placeholder: boolean;
  card: unknown;
  registeredAt: string;
  runs: number;
  lastRunAt: string | null;
}

/** Model versions the workers registered, newest first, with how often each ran. */
export async function listModels(db: Db): Promise<ModelInfo[]> {
  const models = await db.modelVersion.findMany({ orderBy: { createdAt: 'desc' }, include: { _count: { select: { inferenceRuns: true } }, inferenceRuns: { orderBy: { createdAt: 'desc' }, take: 1, select: { createdAt: true } } } });
  return models.map((m) => ({ name: m.name, version: m.version, sha256: m.sha256, placeholder: m.placeholder, card: m.card, registeredAt: m.createdAt.toISOString(), runs: m._count.inferenceRuns, lastRunAt: m.inferenceRuns[0]?.createdAt.toISOString() ?? null }));
}

export interface AuditListItem {
  id: string;
  at: string;
  entityType: string;
  entityId: string;
  action: string;
  actor: string;
  studyInstanceUid: string | null;
  details: unknown;
}

/** Audit events, newest first, filtered by actor and/or action (substring), paged by id (`before`). */
export async function listAudit(db: Db, filter: { actor?: string; action?: string; before?: bigint; limit?: number } = {}): Promise<{ items: AuditListItem[]; nextBefore: string | null }> {
  const limit = filter.limit ?? 50;
  const rows = await db.auditEvent.findMany({
    where: {
      ...(filter.actor ? { actor: { contains: filter.actor } } : {}),
      ...(filter.action ? { action: { contains: filter.action } } : {}),
      ...(filter.before !== undefined ? { id: { lt: filter.before } } : {}),
    },
    orderBy: { id: 'desc' },
    take: limit + 1,
  });
  const page = rows.slice(0, limit);
  return {
    items: page.map((e) => ({ id: e.id.toString(), at: e.at.toISOString(), entityType: e.entityType, entityId: e.entityId, action: e.action, actor: e.actor, studyInstanceUid: e.studyInstanceUid, details: e.details })),
    nextBefore: rows.length > limit ? page.at(-1)!.id.toString() : null,
  };
}

/**
 * A change marker for live views: the newest audit event, study change and delivery change. The
 * dashboard polls it every second or two and re-renders only when it moves.
 */
export async function changeMarker(db: Db): Promise<string> {
  const [e, s, d] = await Promise.all([
    db.auditEvent.findFirst({ orderBy: { id: 'desc' }, select: { id: true } }),
    db.study.aggregate({ _max: { updatedAt: true } }),
    db.delivery.aggregate({ _max: { updatedAt: true } }),
  ]);
  return [e?.id.toString() ?? '0', s._max.updatedAt?.getTime() ?? 0, d._max.updatedAt?.getTime() ?? 0].join(':');
}
