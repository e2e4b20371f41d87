import { readFile } from 'node:fs/promises';
import { loadStudyForProcessing, setSeriesRoles, transitionStudy } from '@ldh/db';
import { nums, readPart10, routeStudy, str, type SeriesFacts } from '@ldh/dicom';
import type { StudyRoutePayload } from '@ldh/queue';
import type { PipelineDeps } from './deps.js';

/**
 * Route a settled study: decide whether it is a lumbar spine MRI and which series are T1 sag,
 * T2 sag and T2 ax. One header per series is read from disk (TR/TE are not in the database);
 * pixels are never loaded here.
 */
export async function runRouteJob(payload: StudyRoutePayload, deps: PipelineDeps): Promise<{ outcome: 'routed' | 'skipped' | 'stale'; reason?: string }> {
  const study = await loadStudyForProcessing(deps.db, payload.studyId);
  if (study.revision !== payload.revision || study.state !== 'settled') {
    deps.logger.info({ studyInstanceUid: study.studyInstanceUid, state: study.state, revision: study.revision, jobRevision: payload.revision }, 'route job is stale; ignoring');
    return { outcome: 'stale' };
  }
  const facts: SeriesFacts[] = [];
  for (const s of study.series) {
    const first = s.instances[Math.floor(s.instances.length / 2)] ?? s.instances[0];
    let tr: number | undefined;
    let te: number | undefined;
    let extra: string[] = [];
    if (first) {
      try {
        const { dataset } = readPart10(await readFile(deps.store.pathOf(first.storageKey)), { headerOnly: true });
        tr = nums(dataset, 'RepetitionTime')?.[0];
        te = nums(dataset, 'EchoTime')?.[0];
        extra = [str(dataset, 'StudyDescription'), str(dataset, 'ProtocolName')].filter((x): x is string => Boolean(x));
      } catch (err) {
        deps.logger.warn({ seriesInstanceUid: s.seriesInstanceUid, err: (err as Error).message }, 'cannot read series header; routing on database facts');
      }
    }
    facts.push({
      seriesInstanceUid: s.seriesInstanceUid,
      modality: s.modality,
      seriesDescription: s.seriesDescription,
      bodyPartExamined: s.bodyPartExamined,
      seriesNumber: s.seriesNumber,
      instanceCount: s.instances.length,
      imageOrientationPatient: first?.imageOrientationPatient ?? null,
      repetitionTime: tr ?? null,
      echoTime: te ?? null,
      extraDescriptions: extra,
    });
  }
  const decision = routeStudy(facts);
  const bySeriesUid = new Map(study.series.map((s) => [s.seriesInstanceUid, s.id]));
  const roles = decision.classified.map((c) => ({ seriesId: bySeriesUid.get(c.seriesInstanceUid)!, role: c.role }));
  const summary = decision.classified.map((c) => ({ seriesInstanceUid: c.seriesInstanceUid, plane: c.plane, weighting: c.weighting, role: c.role }));
  if (decision.kind === 'skip') {
    await deps.db.$transaction(async (tx) => {
      await setSeriesRoles(tx, roles);
      await transitionStudy(deps.db, { studyId: study.id, from: ['settled'], to: 'skipped', actor: deps.actor, reason: decision.reason, details: { series: summary } }, tx);
    });
    deps.logger.info({ studyInstanceUid: study.studyInstanceUid, reason: decision.reason }, 'study skipped');
    return { outcome: 'skipped', reason: decision.reason };
  }
  await deps.db.$transaction(async (tx) => {
    // Only the chosen series carry a role; other candidates of the same kind are "other".
    const chosen = new Set(Object.values(decision.roles));
    await setSeriesRoles(tx, decision.classified.map((c) => ({ seriesId: bySeriesUid.get(c.seriesInstanceUid)!, role: chosen.has(c.seriesInstanceUid) ? c.role : 'other' })));
    await transitionStudy(deps.db, { studyId: study.id, from: ['settled'], to: 'routed', actor: deps.actor, details: { roles: decision.roles } }, tx);
  });
  await deps.queues.inference.add(
    { studyId: study.id, studyInstanceUid: study.studyInstanceUid, revision: study.revision },
    { jobId: `inference-${study.id}-${study.revision}`, ...(study.priority > 0 ? { priority: study.priority } : {}) },
  );
  return { outcome: 'routed' };
}
