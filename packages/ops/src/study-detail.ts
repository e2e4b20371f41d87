import { getStudyWithRouting, listStudyAudit, type Db, type DeliveryKind, type DeliveryState, type RunState, type StudyState, type StudyWithRouting } from '@ldh/db';

const STATES = new Set<string>(['receiving', 'settled', 'routed', 'inferring', 'reporting', 'delivering', 'done', 'skipped', 'failed', 'delivery_failed']);

/** One state of the study's life, from the audit trail. */
export interface TimelineEntry {
  state: StudyState;
  /** When the study entered the state (the audit event's time). */
  enteredAt: string;
  /** When it left it; null for the current state. */
  leftAt: string | null;
  /** How long it stayed; for the current state, up to `now`. */
  durationMs: number;
  current: boolean;
  /** The audit action that moved the study here (study.settled, study.retried, study.reopened, ...). */
  action: string;
  actor: string;
  reason: string | null;
  revision: number | null;
}

export interface InferenceRunDetail {
  id: string;
  model: { name: string; version: string; placeholder: boolean };
  provider: string | null;
  state: RunState;
  score: number | null;
  decision: string | null;
  threshold: number | null;
  attempts: number;
  owner: string | null;
  leaseExpiresAt: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Durations in ms as the worker measured them (decode, preprocess, inference, total). */
  timings: unknown;
  /** Per-image scores as the worker stored them: [{ sopInstanceUid, role, probability }]. */
  perImage: unknown;
  error: string | null;
}

export interface ReportDetail {
  id: string;
  version: number;
  inferenceRunId: string;
  srSopInstanceUid: string;
  srSeriesInstanceUid: string;
  kosSopInstanceUid: string | null;
  createdAt: string;
}

export interface DeliveryDetail {
  id: string;
  reportVersion: number;
  destination: string;
  destinationEnabled: boolean;
  /** dicom (SR/KOS), sc, hl7 or fhir. */
  kind: DeliveryKind;
  state: DeliveryState;
  attempts: number;
  /** When the next send is due (pending/failed only). */
  nextAttemptAt: string | null;
  lastError: string | null;
  lastStatus: number | null;
  firstAttemptAt: string | null;
  deliveredAt: string | null;
  discardedAt: string | null;
  discardedBy: string | null;
  discardReason: string | null;
}

/**
 * Everything an operator (or the dashboard) needs about one study, without PHI: UIDs, states,
 * reasons, the timeline, the routing decision, inference runs, reports and deliveries.
 */
export interface StudyDetail extends Omit<StudyWithRouting, 'id'> {
  failedStage: string | null;
  lastError: string | null;
  accessionNumber: string | null;
  patientIdHash: string | null;
  createdAt: Date;
  updatedAt: Date;
  timeline: TimelineEntry[];
  inferenceRuns: InferenceRunDetail[];
  reports: ReportDetail[];
  deliveries: DeliveryDetail[];
}

type AuditRow = Awaited<ReturnType<typeof listStudyAudit>>[number];

/** The state an audit event moved the study to, or null when it is not a state change. */
function stateOf(event: AuditRow): StudyState | null {
  if (event.entityType !== 'study') return null;
  const to = (event.details as { to?: unknown } | null)?.to;
  if (typeof to === 'string' && STATES.has(to)) return to as StudyState;
  const suffix = event.action.startsWith('study.') ? event.action.slice('study.'.length) : '';
  return STATES.has(suffix) ? (suffix as StudyState) : null;
}

/**
 * The states of a study in order from its audit trail, each with when it was entered, how long
 * it lasted (the current one up to `now`) and who moved it there. Consecutive events naming the
 * state the study is already in (e.g. a replay's move and the retry that caused it) are one entry.
 * A study whose first audit event is not `study.receiving` starts with `receiving` at `firstInstanceAt`.
 */
export function buildTimeline(events: AuditRow[], study: { state: StudyState; firstInstanceAt: Date }, now = new Date()): TimelineEntry[] {
  const raw: Array<Omit<TimelineEntry, 'leftAt' | 'durationMs' | 'current'>> = [];
  for (const e of events) {
    const state = stateOf(e);
    if (!state) continue;
    if (raw.at(-1)?.state === state) continue;
    const d = (e.details ?? {}) as { reason?: unknown; revision?: unknown };
    raw.push({ state, enteredAt: e.at.toISOString(), action: e.action, actor: e.actor, reason: typeof d.reason === 'string' ? d.reason : null, revision: typeof d.revision === 'number' ? d.revision : null });
  }
  if (raw[0]?.state !== 'receiving') {
    raw.unshift({ state: 'receiving', enteredAt: study.firstInstanceAt.toISOString(), action: 'study.receiving', actor: 'scp', reason: null, revision: null });
  }
  return raw.map((entry, i) => {
    const next = raw[i + 1];
    const end = next ? Date.parse(next.enteredAt) : now.getTime();
    return { ...entry, leftAt: next?.enteredAt ?? null, durationMs: Math.max(0, end - Date.parse(entry.enteredAt)), current: !next };
  });
}

/**
 * The full view of one study by StudyInstanceUID (what `ldh studies show` prints and the
 * dashboard shows), or null when the study is unknown. Reads Postgres only.
 */
export async function studyDetail(db: Db, studyInstanceUid: string, now = new Date()): Promise<StudyDetail | null> {
  const view = await getStudyWithRouting(db, studyInstanceUid);
  if (!view) return null;
  const { id, ...rest } = view;
  const [study, events, runs, reports] = await Promise.all([
    db.study.findUniqueOrThrow({ where: { id }, select: { failedStage: true, lastError: true, accessionNumber: true, patientIdHash: true, createdAt: true, updatedAt: true } }),
    listStudyAudit(db, studyInstanceUid),
    db.inferenceRun.findMany({ where: { studyId: id }, orderBy: { createdAt: 'asc' }, include: { modelVersion: { select: { name: true, version: true, placeholder: true } } } }),
    db.report.findMany({ where: { studyId: id }, orderBy: { version: 'asc' }, include: { deliveries: { include: { destination: { select: { name: true, enabled: true } } }, orderBy: { createdAt: 'asc' } } } }),
  ]);
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return {
    ...rest,
    ...study,
    timeline: buildTimeline(events, view, now),
    inferenceRuns: runs.map((r) => ({
      id: r.id,
      model: r.modelVersion,
      provider: r.provider,
      state: r.state,
      score: r.studyProbability,
      decision: r.decision,
      threshold: r.threshold,
      attempts: r.attempts,
      owner: r.owner,
      leaseExpiresAt: iso(r.leaseExpiresAt),
      createdAt: r.createdAt.toISOString(),
      startedAt: iso(r.startedAt),
      finishedAt: iso(r.finishedAt),
      timings: r.timings ?? null,
      perImage: r.perImage ?? null,
      error: r.error,
    })),
    reports: reports.map((r) => ({
      id: r.id,
      version: r.version,
      inferenceRunId: r.inferenceRunId,
      srSopInstanceUid: r.srSopInstanceUid,
      srSeriesInstanceUid: r.srSeriesInstanceUid,
      kosSopInstanceUid: r.kosSopInstanceUid,
      createdAt: r.createdAt.toISOString(),
    })),
    deliveries: reports.flatMap((r) =>
      r.deliveries.map((d) => ({
        id: d.id,
        reportVersion: r.version,
        destination: d.destination.name,
        destinationEnabled: d.destination.enabled,
        kind: d.kind,
        state: d.state,
        attempts: d.attempts,
        nextAttemptAt: d.state === 'pending' || d.state === 'failed' ? d.nextAttemptAt.toISOString() : null,
        lastError: d.lastError,
        lastStatus: d.lastStatus,
        firstAttemptAt: iso(d.firstAttemptAt),
        deliveredAt: iso(d.deliveredAt),
        discardedAt: iso(d.discardedAt),
        discardedBy: d.discardedBy,
        discardReason: d.discardReason,
      })),
    ),
  };
}
