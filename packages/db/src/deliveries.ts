import type { Db, Tx } from './client.js';
import { Prisma, type DeliveryKind, type DestinationProtocol } from './generated/prisma/client.js';
import { appendAudit } from './audit.js';
import { transitionStudy } from './studies.js';

/**
 * The delivery outbox lives in Postgres (invariant 6): a scheduler claims due rows with
 * FOR UPDATE SKIP LOCKED, marks them `sending` with a claim, sends, and records the outcome with
 * `nextAttemptAt` kept current. A claim older than the lease (a sender killed mid-send) is taken
 * over by the next claim, so Redis or a crashed writer can neither lose nor strand a delivery.
 */

/** UTC "now" in SQL: Prisma writes timestamp(3) columns in UTC, whatever the session time zone. */
const NOW_UTC = `(now() AT TIME ZONE 'UTC')`;

export interface ClaimedDelivery {
  id: string;
  reclaimed: boolean;
}

/**
 * Claim up to `limit` due deliveries of one enabled destination: `pending`/`failed` rows whose
 * nextAttemptAt has passed, and `sending` rows whose claim is older than `leaseMs`. The rows become
 * `sending` with claimedBy = `owner`; firstAttemptAt is set on the first claim (the give-up clock).
 */
export async function claimDueDeliveries(db: Db, args: { destinationId: string; limit: number; owner: string; leaseMs: number; actor: string }): Promise<ClaimedDelivery[]> {
  if (args.limit <= 0) return [];
  const rows = await db.$queryRawUnsafe<Array<{ id: string; old_state: string; claimed_by: string | null; study_uid: string }>>(
    `WITH due AS (
       SELECT d.id, d.state AS old_state, d."claimedBy" AS claimed_by
         FROM "Delivery" d JOIN "Destination" t ON t.id = d."destinationId"
        WHERE d."destinationId" = $1::uuid AND t.enabled
          AND ((d.state IN ('pending', 'failed') AND d."nextAttemptAt" <= ${NOW_UTC})
               OR (d.state = 'sending' AND d."claimedAt" < ${NOW_UTC} - ($2::int * interval '1 millisecond')))
        ORDER BY d."nextAttemptAt", d."createdAt"
        LIMIT $3
          FOR UPDATE OF d SKIP LOCKED)
     UPDATE "Delivery" d
        SET state = 'sending', "claimedAt" = ${NOW_UTC}, "claimedBy" = $4,
            "firstAttemptAt" = COALESCE(d."firstAttemptAt", ${NOW_UTC}), "updatedAt" = ${NOW_UTC}
       FROM due, "Report" r, "Study" s
      WHERE d.id = due.id AND r.id = d."reportId" AND s.id = r."studyId"
     RETURNING d.id::text AS id, due.old_state::text AS old_state, due.claimed_by, s."studyInstanceUid" AS study_uid`,
    args.destinationId,
    Math.round(args.leaseMs),
    args.limit,
    args.owner,
  );
  for (const r of rows.filter((x) => x.old_state === 'sending')) {
    await appendAudit(db, {
      entityType: 'delivery',
      entityId: r.id,
      studyInstanceUid: r.study_uid,
      action: 'delivery.reclaimed',
      actor: args.actor,
      details: { previousClaimant: r.claimed_by, leaseMs: args.leaseMs },
    });
  }
  return rows.map((r) => ({ id: r.id, reclaimed: r.old_state === 'sending' }));
}

/** A claimed delivery with what the sender needs: files, destination (with TLS paths), clocks. */
export async function loadDeliveryForSend(db: Db, deliveryId: string) {
  // The whole report row: optional artefacts added later (e.g. a Secondary Capture's storage key) come with it.
  return db.delivery.findUniqueOrThrow({
    where: { id: deliveryId },
    include: { destination: true, report: { include: { study: { select: { id: true, studyInstanceUid: true } } } } },
  });
}

/**
 * The outbox rows a destination gets for each report: DICOM → `dicom` (SR and/or KOS, one
 * association) when it sends sr or kos, and `sc` when it sends sc; HL7 → `hl7`; FHIR → `fhir`.
 */
export function deliveryKindsFor(d: { protocol: DestinationProtocol; sends: readonly string[] }): DeliveryKind[] {
  if (d.protocol === 'hl7') return ['hl7'];
  if (d.protocol === 'fhir') return ['fhir'];
  const kinds: DeliveryKind[] = [];
  if (d.sends.includes('sr') || d.sends.includes('kos')) kinds.push('dicom');
  if (d.sends.includes('sc')) kinds.push('sc');
  return kinds;
}

export type DeliveryOutcome =
  | { outcome: 'delivered' }
  | { outcome: 'failed'; error: string; status?: number | null; nextAttemptAt: Date }
  | { outcome: 'dead'; error: string; status?: number | null }
  /** Nothing to send for this kind (e.g. no Secondary Capture was written): settled, not an error. */
  | { outcome: 'not_applicable'; reason: string };

/**
 * Record the outcome of a send by the claimant `owner`, with its audit event, and settle the
 * study (done when every delivery of its report is delivered, delivery_failed when one is dead).
 * Returns false, recording nothing, when the claim was lost (reclaimed by another sender).
 */
export async function recordDeliveryOutcome(
  db: Db,
  args: { deliveryId: string; owner: string; actor: string; durationMs: number } & DeliveryOutcome,
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const now = new Date();
    const { count } = await tx.delivery.updateMany({
      where: { id: args.deliveryId, state: 'sending', claimedBy: args.owner },
      data: {
        state: args.outcome,
        attempts: { increment: 1 },
        claimedAt: null,
        claimedBy: null,
        lastError: args.outcome === 'delivered' ? null : args.outcome === 'not_applicable' ? args.reason : args.error,
        lastStatus: args.outcome === 'delivered' || args.outcome === 'not_applicable' ? null : (args.status ?? null),
        deliveredAt: args.outcome === 'delivered' ? now : null,
        ...(args.outcome === 'failed' ? { nextAttemptAt: args.nextAttemptAt } : {}),
      },
    });
    if (count !== 1) return false;
    const d = await tx.delivery.findUniqueOrThrow({ where: { id: args.deliveryId }, include: { destination: true, report: { include: { study: true } } } });
    await appendAudit(tx, {
      entityType: 'delivery',
      entityId: d.id,
      studyInstanceUid: d.report.study.studyInstanceUid,
      action: `delivery.${args.outcome}`,
      actor: args.actor,
      details: {
        destination: d.destination.name,
        kind: d.kind,
        ...(d.destination.aeTitle ? { aeTitle: d.destination.aeTitle } : {}),
        attempt: d.attempts,
        durationMs: args.durationMs,
        ...(args.outcome === 'failed' || args.outcome === 'dead' ? { error: args.error, status: args.status ?? null } : {}),
        ...(args.outcome === 'not_applicable' ? { reason: args.reason } : {}),
        ...(args.outcome === 'failed' ? { nextAttemptAt: args.nextAttemptAt.toISOString() } : {}),
      },
    });
    await settleStudyDeliveries(tx, d.reportId, args.actor);
    return true;
  });
}

/**
 * Move the report's study out of `delivering` once its fate is known: `delivery_failed` when a
 * delivery to an enabled destination is dead, `done` when all of them are delivered. Only the
 * study's latest report decides. Deliveries to disabled destinations do not count.
 */
export async function settleStudyDeliveries(tx: Tx, reportId: string, actor: string): Promise<void> {
  // Serialize the settlements of one study: two deliveries of a report finishing at once would
  // otherwise each read the other's row as unfinished (READ COMMITTED) and neither settle the study.
  await tx.$executeRawUnsafe(`SELECT 1 FROM "Study" s JOIN "Report" r ON r."studyId" = s.id WHERE r.id = $1::uuid FOR UPDATE OF s`, reportId);
  const report = await tx.report.findUniqueOrThrow({
    where: { id: reportId },
    include: { study: { select: { id: true, state: true } }, deliveries: { include: { destination: { select: { name: true, enabled: true } } } } },
  });
  if (report.study.state !== 'delivering') return;
  const latest = await tx.report.findFirst({ where: { studyId: report.studyId }, orderBy: { version: 'desc' }, select: { id: true } });
  if (latest?.id !== report.id) return;
  const live = report.deliveries.filter((d) => d.destination.enabled);
  const dead = live.filter((d) => d.state === 'dead');
  if (dead.length > 0) {
    await transitionStudy(
      tx as unknown as Db,
      {
        studyId: report.studyId,
        from: ['delivering'],
        to: 'delivery_failed',
        actor,
        reason: `delivery to ${dead.map((d) => (d.kind === 'dicom' ? d.destination.name : `${d.destination.name} (${d.kind})`)).join(', ')} is dead: ${dead[0]!.lastError ?? 'no error recorded'}`,
        details: { reportId, dead: dead.map((d) => d.id) },
      },
      tx,
    );
  } else if (live.every((d) => d.state === 'delivered' || d.state === 'not_applicable')) {
    await transitionStudy(tx as unknown as Db, { studyId: report.studyId, from: ['delivering'], to: 'done', actor, details: { reportId, delivered: live.length } }, tx);
  }
}

export type ReplaySelection = { ids: string[] } | { allDead: true; destination?: string };

export interface ReplayResult {
  replayed: Array<{ id: string; destination: string; kind: DeliveryKind; studyInstanceUid: string }>;
  skipped: Array<{ id: string; reason: string }>;
}

/**
 * Replay dead deliveries: back to `pending` with nextAttemptAt = now, attempts and the give-up
 * clock reset (the history stays in the audit trail), the study back to `delivering` when no
 * dead delivery of its report is left. Audited with the operator. Rows that are not dead are
 * skipped with the reason. Pass `inTx` to replay inside the caller's transaction (e.g. a study retry).
 */
export async function replayDeliveries(db: Db, selection: ReplaySelection, operator: string, inTx?: Tx): Promise<ReplayResult> {
  const run = async (tx: Tx) => {
    const result: ReplayResult = { replayed: [], skipped: [] };
    const where =
      'ids' in selection
        ? { id: { in: selection.ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id)) } }
        : { state: 'dead' as const, ...(selection.destination ? { destination: { name: selection.destination } } : {}) };
    const rows = await tx.delivery.findMany({ where, include: { destination: true, report: { include: { study: true } } }, orderBy: { createdAt: 'asc' } });
    if ('ids' in selection) {
      for (const id of selection.ids) if (!rows.some((r) => r.id === id)) result.skipped.push({ id, reason: 'no such delivery' });
    }
    const reports = new Set<string>();
    for (const d of rows) {
      if (d.state !== 'dead') {
        result.skipped.push({ id: d.id, reason: `state is ${d.state}, not dead` });
        continue;
      }
      if (!d.destination.enabled) {
        result.skipped.push({ id: d.id, reason: `destination ${d.destination.name} is disabled` });
        continue;
      }
      await tx.delivery.update({
        where: { id: d.id },
        data: { state: 'pending', attempts: 0, nextAttemptAt: new Date(), firstAttemptAt: null, claimedAt: null, claimedBy: null, lastError: null, lastStatus: null },
      });
      await appendAudit(tx, {
        entityType: 'delivery',
        entityId: d.id,
        studyInstanceUid: d.report.study.studyInstanceUid,
        action: 'delivery.replayed',
        actor: operator,
        details: { destination: d.destination.name, kind: d.kind, previousAttempts: d.attempts, previousError: d.lastError, previousStatus: d.lastStatus },
      });
      result.replayed.push({ id: d.id, destination: d.destination.name, kind: d.kind, studyInstanceUid: d.report.study.studyInstanceUid });
      reports.add(d.reportId);
    }
    for (const reportId of reports) {
      const report = await tx.report.findUniqueOrThrow({ where: { id: reportId }, include: { study: true, deliveries: { where: { state: 'dead', destination: { enabled: true } } } } });
      if (report.study.state === 'delivery_failed' && report.deliveries.length === 0) {
        await transitionStudy(tx as unknown as Db, { studyId: report.studyId, from: ['delivery_failed'], to: 'delivering', actor: operator, details: { reportId, replayed: true } }, tx);
      }
    }
    return result;
  };
  return inTx ? run(inTx) : db.$transaction(run);
}

export interface DestinationConfig {
  name: string;
  /** Default dicom. */
  protocol?: DestinationProtocol;
  /** DICOM only. */
  aeTitle?: string | null;
  host: string;
  port: number;
  tls?: boolean;
  tlsCaPath?: string | null;
  tlsCertPath?: string | null;
  tlsKeyPath?: string | null;
  /** DICOM: subset of sr, kos, sc (default sr + kos). HL7/FHIR: ignored ([hl7] / [fhir]). */
  sends?: string[];
  /** HL7 / FHIR settings (no secrets: file paths only). */
  settings?: Prisma.InputJsonValue | null;
}

/**
 * Make the Destination table match the configured list: each listed destination is created or
 * updated and enabled; every other enabled one is disabled (its pending rows are kept and not
 * sent; an audit event says how many), and studies waiting only on it are settled.
 */
export async function syncDestinations(db: Db, configured: DestinationConfig[], actor: string): Promise<{ disabled: string[]; enabled: string[] }> {
  return db.$transaction(async (tx) => {
    const before = await tx.destination.findMany();
    const out = { disabled: [] as string[], enabled: [] as string[] };
    for (const c of configured) {
      const protocol = c.protocol ?? 'dicom';
      const data = {
        protocol,
        aeTitle: c.aeTitle ?? null,
        host: c.host,
        port: c.port,
        tls: c.tls ?? false,
        tlsCaPath: c.tlsCaPath ?? null,
        tlsCertPath: c.tlsCertPath ?? null,
        tlsKeyPath: c.tlsKeyPath ?? null,
        sends: protocol === 'dicom' ? (c.sends ?? ['sr', 'kos']) : [protocol],
        settings: c.settings ?? Prisma.DbNull,
        enabled: true,
      };
      const row = await tx.destination.upsert({ where: { name: c.name }, create: { name: c.name, ...data }, update: data });
      const prev = before.find((b) => b.name === c.name);
      if (prev && !prev.enabled) {
        out.enabled.push(c.name);
        await appendAudit(tx, { entityType: 'destination', entityId: row.id, action: 'destination.enabled', actor, details: { name: c.name } });
      }
    }
    const names = new Set(configured.map((c) => c.name));
    for (const d of before.filter((b) => b.enabled && !names.has(b.name))) {
      await tx.destination.update({ where: { id: d.id }, data: { enabled: false } });
      const pending = await tx.delivery.findMany({ where: { destinationId: d.id, state: { in: ['pending', 'failed', 'sending'] } }, select: { reportId: true } });
      await appendAudit(tx, {
        entityType: 'destination',
        entityId: d.id,
        action: 'destination.disabled',
        actor,
        details: { name: d.name, reason: 'not in LDH_DESTINATIONS / LDH_HL7_DESTINATIONS / LDH_FHIR_DESTINATIONS', pendingKept: pending.length },
      });
      out.disabled.push(d.name);
      for (const reportId of new Set(pending.map((p) => p.reportId))) await settleStudyDeliveries(tx, reportId, actor);
    }
    return out;
  });
}
