import { readFile } from 'node:fs/promises';
import { createReportWithOutbox, failStudy, getInferenceRun, transitionStudy } from '@ldh/db';
import { CharsetError, DicomParseError, readPart10, uidFromName } from '@ldh/dicom';
import { buildKeyObjectSelection, buildMeasurementReport, buildSecondaryCapture, sourceStudyHeader, SrInputError, type AlgorithmIdentity, type SourceImageRef, type SourceStudyHeader } from '@ldh/sr';
import { UnrecoverableError, type ReportPayload } from '@ldh/queue';
import type { InstanceStore } from '@ldh/storage';
import type { PipelineDeps } from './deps.js';
import { keyImages, levelResults, positiveLevelNames, storedLevels, summaryKey } from './report-levels.js';

/** Who we are as a DICOM device (manufacturer and software version written into every SR). */
export interface WriterIdentity {
  manufacturer: string;
  softwareVersion: string;
}

export interface ReportDeps extends PipelineDeps {
  identity: WriterIdentity;
  /** Also write the Secondary Capture summary image (LDH_SC_SUMMARY, default on). */
  scSummary?: boolean;
}

/** Write bytes into the content-addressed store (fsync + rename) and return the storage key. */
export async function storeBytes(store: InstanceStore, bytes: Uint8Array): Promise<{ storageKey: string; sha256: string }> {
  const w = await store.beginWrite();
  try {
    await new Promise<void>((resolve, reject) => w.stream.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (err?: Error | null) => (err ? reject(err) : resolve())));
    const stored = await w.commit();
    return { storageKey: stored.storageKey, sha256: stored.sha256 };
  } catch (err) {
    await w.abort();
    throw err;
  }
}

/**
 * Turn a finished inference run into a TID 1500 SR with per-level groups (+ a KOS flagging the key
 * images of positive levels, + a Secondary Capture summary image unless disabled), store them
 * durably, and create the outbox rows — one transaction — so
 * delivery can be retried for as long as the PACS is down. SOP Instance UIDs are derived from the
 * run id: a retried job rewrites the same objects, never a second report.
 */
export async function runReportJob(payload: ReportPayload, deps: ReportDeps): Promise<{ reportId: string; deliveries: number }> {
  try {
    return await writeReport(payload, deps);
  } catch (err) {
    // Input the SR cannot carry (e.g. a source header value that breaks its VR) fails the same
    // way on every retry: fail the study with the reason instead of retrying.
    if (err instanceof SrInputError) {
      const run = await deps.db.inferenceRun.findUnique({ where: { id: payload.inferenceRunId }, select: { studyId: true } });
      if (run) await failStudy(deps.db, { studyId: run.studyId, stage: 'report', reason: `cannot write SR: ${err.message}`, actor: deps.actor }).catch(() => undefined);
      throw new UnrecoverableError(`cannot write SR: ${err.message}`);
    }
    throw err;
  }
}

async function writeReport(payload: ReportPayload, deps: ReportDeps): Promise<{ reportId: string; deliveries: number }> {
  const run = await getInferenceRun(deps.db, payload.inferenceRunId);
  if (run.state !== 'succeeded' || run.studyProbability === null || run.decision === null || run.threshold === null) {
    throw new UnrecoverableError(`inference run ${run.id} is ${run.state}; nothing to report`);
  }
  const perImage = run.perImage as unknown as Array<{ sopInstanceUid: string; frameNumber?: number; seriesInstanceUid: string; sopClassUid: string; role: SourceImageRef['role']; probability: number }>;
  const study = run.study;
  // Patient/study attributes are copied from a source instance at write time, never stored in our DB.
  const source = await deps.db.instance.findFirst({ where: { studyId: study.id, sopInstanceUid: { in: perImage.map((p) => p.sopInstanceUid) }, isCurrent: true } });
  if (!source) throw new UnrecoverableError(`no source instance of study ${study.studyInstanceUid} is on record`);
  const bytes = await readFile(deps.store.pathOf(source.storageKey));
  let header: SourceStudyHeader;
  try {
    // Decoded with the source's Specific Character Set; person names keep all three groups.
    const { dataset, characterSet } = readPart10(bytes, { headerOnly: true });
    header = sourceStudyHeader(dataset, study.studyInstanceUid, characterSet);
  } catch (err) {
    // A header that cannot be parsed or decoded fails the same way on every retry: the study
    // fails with the reason (attribute keyword and character set, never the value).
    if (err instanceof CharsetError || err instanceof DicomParseError) {
      throw new SrInputError('study', `source header of instance ${source.sopInstanceUid} unreadable: ${err.message}`);
    }
    throw err;
  }
  const mv = run.modelVersion;
  const algorithm: AlgorithmIdentity = {
    name: mv.name,
    version: mv.version,
    // Changes whenever the weights change (sr-content.md sec. 7).
    deviceObserverUid: uidFromName(`ldh-model:${mv.name}:${mv.version}:${mv.sha256}`),
    manufacturer: deps.identity.manufacturer,
    modelName: mv.name,
    placeholder: mv.placeholder,
    softwareVersion: deps.identity.softwareVersion,
  };
  // frameNumber: the image was one frame of a multi-frame instance (Enhanced MR); the SR and KOS reference that frame.
  const images: SourceImageRef[] = perImage.map((p) => ({
    sopClassUid: p.sopClassUid,
    sopInstanceUid: p.sopInstanceUid,
    ...(p.frameNumber !== undefined ? { frameNumber: p.frameNumber } : {}),
    seriesInstanceUid: p.seriesInstanceUid,
    role: p.role,
    probability: p.probability,
  }));
  const now = run.finishedAt ?? new Date();
  const decision = run.decision === 'ldh' ? 'ldh' : 'healthy';
  const card = mv.card as { aggregation?: { method?: string } };
  const levels = storedLevels(run.perLevel);
  const srSopInstanceUid = uidFromName(`ldh-sr:${run.id}`);
  const srSeriesInstanceUid = uidFromName(`ldh-sr-series:${study.studyInstanceUid}`);
  const sr = buildMeasurementReport({
    study: header,
    images,
    studyProbability: run.studyProbability,
    threshold: run.threshold,
    decision,
    levels: levelResults(levels, images),
    algorithm,
    aggregation: card.aggregation?.method ?? 'unspecified',
    sopInstanceUid: srSopInstanceUid,
    seriesInstanceUid: srSeriesInstanceUid,
    contentDateTime: now,
  });
  const srStored = await storeBytes(deps.store, sr);

  let kos: { sopInstanceUid: string; storageKey: string } | null = null;
  // Key images: those of the positive levels; for a positive study without one, the three
  // highest-scoring images, so a viewer opens where the model looked.
  const key = keyImages(levels, images, decision === 'ldh');
  if (key.length > 0) {
    const kosUid = uidFromName(`ldh-kos:${run.id}`);
    const at = positiveLevelNames(levels);
    const bytes = buildKeyObjectSelection({
      study: header,
      images: key,
      description: `${mv.placeholder ? '[PLACEHOLDER MODEL] ' : ''}AI: suspected lumbar disc herniation${at ? ` at ${at}` : ''} (study ${(run.studyProbability * 100).toFixed(1)}%)`,
      sopInstanceUid: kosUid,
      seriesInstanceUid: uidFromName(`ldh-kos-series:${study.studyInstanceUid}`),
      contentDateTime: now,
      algorithm,
    });
    kos = { sopInstanceUid: kosUid, storageKey: (await storeBytes(deps.store, bytes)).storageKey };
  }

  let sc: { sopInstanceUid: string; storageKey: string } | null = null;
  if (deps.scSummary ?? true) {
    // The summary shows the key image of the most suspicious level (decoded from the store).
    const shown = summaryKey(levels, images);
    const shownRow = shown.image ? await deps.db.instance.findFirst({ where: { studyId: study.id, sopInstanceUid: shown.image.sopInstanceUid, isCurrent: true } }) : null;
    const scUid = uidFromName(`ldh-sc:${run.id}`);
    const { bytes } = await buildSecondaryCapture({
      study: header,
      levels: levels.map((l) => ({ level: l.level, probability: l.probability, decision: l.decision })),
      studyProbability: run.studyProbability,
      decision,
      ...(shown.level ? { keyLevel: shown.level.level } : {}),
      ...(shown.image && shownRow
        ? {
            keyImage: {
              bytes: await readFile(deps.store.pathOf(shownRow.storageKey)),
              sopClassUid: shown.image.sopClassUid,
              sopInstanceUid: shown.image.sopInstanceUid,
              ...(shown.image.frameNumber !== undefined ? { frameNumber: shown.image.frameNumber } : {}),
            },
          }
        : {}),
      algorithm,
      sopInstanceUid: scUid,
      seriesInstanceUid: uidFromName(`ldh-sc-series:${study.studyInstanceUid}`),
      contentDateTime: now,
    });
    sc = { sopInstanceUid: scUid, storageKey: (await storeBytes(deps.store, bytes)).storageKey };
  }

  const report = await createReportWithOutbox(deps.db, {
    studyId: study.id,
    studyInstanceUid: study.studyInstanceUid,
    inferenceRunId: run.id,
    srSopInstanceUid,
    srSeriesInstanceUid,
    srStorageKey: srStored.storageKey,
    srSha256: srStored.sha256,
    kosSopInstanceUid: kos?.sopInstanceUid ?? null,
    kosStorageKey: kos?.storageKey ?? null,
    scSopInstanceUid: sc?.sopInstanceUid ?? null,
    scStorageKey: sc?.storageKey ?? null,
    actor: deps.actor,
  });
  const current = await deps.db.study.findUniqueOrThrow({ where: { id: study.id }, select: { state: true } });
  if (current.state === 'reporting') {
    await transitionStudy(deps.db, {
      studyId: study.id,
      from: ['reporting'],
      to: report.deliveries.length > 0 ? 'delivering' : 'done',
      actor: deps.actor,
      details: { reportId: report.id, srSopInstanceUid, deliveries: report.deliveries.length },
      ...(report.deliveries.length === 0 ? { reason: 'no destination configured' } : {}),
    });
  }
  // The outbox rows are the delivery intents: the writer's delivery scheduler polls Postgres for them.
  return { reportId: report.id, deliveries: report.deliveries.length };
}
