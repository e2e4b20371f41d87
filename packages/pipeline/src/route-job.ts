import { readFile } from 'node:fs/promises';
import { addJobIntent, loadStudyForProcessing, recordRoutingDecision, setSeriesRoles, transitionStudy, type HeaderFailure, type JobIntentRow, type StoredRoutingDecision } from '@ldh/db';
import { instanceContextOf, readPart10, routeStudy, seriesFactsFromHeader, type SeriesFacts } from '@ldh/dicom';
import { bullmqPriority, studyPriorities, type StudyRoutePayload } from '@ldh/queue';
import { evaluatePriority } from '@ldh/config';
import type { PipelineDeps } from './deps.js';
import { dispatchIntentNow } from './dispatcher.js';

/** File-system errors worth a retry (the job throws, BullMQ backs off); anything else is bad input. */
const TRANSIENT_IO = new Set(['EMFILE', 'ENFILE', 'EIO', 'EAGAIN', 'EBUSY', 'ETIMEDOUT']);

/** The study's reason when a header could not be read: it names the series and the error. */
function headerFailureReason(failures: HeaderFailure[], routedWithout: string): string {
  const [first, ...rest] = failures;
  return `cannot read header of series ${first!.seriesInstanceUid}: ${first!.error}${rest.length > 0 ? ` (and ${rest.length} more series)` : ''}; routing without it: ${routedWithout}`;
}

/**
 * Route a settled study: decide whether it is a lumbar spine MRI and which series are T1 sag,
 * T2 sag and T2 ax. One header per series is read from disk (TR/TE, ImageType and descriptions
 * are not all in the database); pixels are never loaded here. A header that cannot be read or
 * decoded is never routed on database facts alone: it is named in the decision, and if the
 * study cannot be routed without it the study fails with that reason (not "missing series").
 */
export async function runRouteJob(payload: StudyRoutePayload, deps: PipelineDeps): Promise<{ outcome: 'routed' | 'skipped' | 'failed' | 'stale'; reason?: string }> {
  const study = await loadStudyForProcessing(deps.db, payload.studyId);
  if (study.revision !== payload.revision || study.state !== 'settled') {
    deps.logger.info({ studyInstanceUid: study.studyInstanceUid, state: study.state, revision: study.revision, jobRevision: payload.revision }, 'route job is stale; ignoring');
    return { outcome: 'stale' };
  }
  const facts: SeriesFacts[] = [];
  const headerFailures: HeaderFailure[] = [];
  let firstHeader: Record<string, unknown> | undefined;
  for (const s of study.series) {
    const representative = s.instances[Math.floor(s.instances.length / 2)];
    if (!representative) continue;
    try {
      const { dataset } = readPart10(await readFile(deps.store.pathOf(representative.storageKey)), { headerOnly: true });
      facts.push(seriesFactsFromHeader(dataset, instanceContextOf(s)));
      firstHeader ??= dataset as Record<string, unknown>;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code && TRANSIENT_IO.has(code)) throw err;
      const error = (err as Error).message ?? String(err);
      headerFailures.push({ seriesInstanceUid: s.seriesInstanceUid, seriesNumber: s.seriesNumber, error });
      deps.logger.warn({ studyInstanceUid: study.studyInstanceUid, seriesInstanceUid: s.seriesInstanceUid, sopInstanceUid: representative.sopInstanceUid, err: error }, 'cannot read series header');
    }
  }
  const decision = routeStudy(facts);
  const verdict = decision.kind === 'route' ? 'route' : headerFailures.length > 0 ? 'failed' : 'skip';
  const reason = decision.kind === 'route' ? null : verdict === 'failed' ? headerFailureReason(headerFailures, decision.reason) : decision.reason;
  const stored: StoredRoutingDecision = { verdict, reason, roles: decision.roles, anatomy: decision.anatomy, series: decision.series, headerFailures };
  // The audit event carries the decision: each series' role, score, accepted and why (UIDs, no PHI).
  const details = {
    roles: decision.roles,
    anatomy: { lumbar: decision.anatomy.lumbar, source: decision.anatomy.source, detail: decision.anatomy.detail },
    series: decision.series.map((v) => ({ seriesInstanceUid: v.seriesInstanceUid, seriesNumber: v.seriesNumber, role: v.role, score: v.score, accepted: v.accepted, reasons: v.reasons })),
    ...(headerFailures.length > 0 ? { headerFailures } : {}),
  };
  const chosen = new Set(Object.values(decision.roles));
  const roleOf = new Map(decision.series.map((v) => [v.seriesInstanceUid, v.role]));
  // Only the chosen series carry a role; other candidates of the same kind, and unread series, are "other".
  const roles = study.series.map((s) => ({ seriesId: s.id, role: chosen.has(s.seriesInstanceUid) ? (roleOf.get(s.seriesInstanceUid) ?? 'other') : 'other' }));
  const to = verdict === 'route' ? 'routed' : verdict === 'failed' ? 'failed' : 'skipped';
  // STAT vs routine from the configured rules (Study.priority: higher = more urgent).
  const str = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined);
  const requestAttrs = (firstHeader?.RequestAttributesSequence as Array<Record<string, unknown>> | undefined)?.[0];
  const priority =
    evaluatePriority(deps.priorityRules ?? [], {
      RequestedProcedurePriority: str(firstHeader?.RequestedProcedurePriority) ?? str(requestAttrs?.RequestedProcedurePriority),
      CallingAETitle: study.series[0]?.instances[0]?.callingAeTitle,
      StudyDescription: str(firstHeader?.StudyDescription),
      AccessionNumber: str(firstHeader?.AccessionNumber),
    }) === 'stat'
      ? studyPriorities.stat
      : Math.max(study.priority, studyPriorities.routine);
  // The decision, the state change and the inference job's intent commit together.
  const intent: JobIntentRow | null = await deps.db.$transaction(async (tx) => {
    await setSeriesRoles(tx, roles);
    await recordRoutingDecision(tx, { studyId: study.id, revision: study.revision, decision: stored });
    await transitionStudy(deps.db, { studyId: study.id, from: ['settled'], to, actor: deps.actor, reason, details, data: { priority, accessionNumber: str(firstHeader?.AccessionNumber) ?? null, ...(verdict === 'failed' ? { failedStage: 'route', lastError: reason } : {}) } }, tx);
    if (verdict !== 'route') return null;
    return addJobIntent(tx, {
      studyId: study.id,
      stage: 'inference',
      revision: study.revision,
      payload: { studyId: study.id, studyInstanceUid: study.studyInstanceUid, revision: study.revision },
      priority: bullmqPriority(priority),
    });
  });
  if (verdict !== 'route') {
    deps.logger.info({ studyInstanceUid: study.studyInstanceUid, state: to, reason }, `study ${to}`);
    return { outcome: verdict === 'failed' ? 'failed' : 'skipped', reason: reason! };
  }
  if (intent) await dispatchIntentNow(deps, intent);
  return { outcome: 'routed' };
}
