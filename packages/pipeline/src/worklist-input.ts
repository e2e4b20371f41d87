/**
 * Assembles a worklist message's input ({@link WorklistResult}) for one delivery: the result and
 * the model from the report's inference run, the patient/order attributes from a source instance
 * header (decoded with @ldh/dicom's charset reader, as the SR writer does: never stored in our DB).
 * Per-level results come from InferenceRun.perLevel when the run has them
 * ([{ level: 'L4-L5', probability, decision, sopInstanceUids }]).
 */
import { readFile } from 'node:fs/promises';
import type { Db } from '@ldh/db';
import { personName, readPart10, str, uidFromName, type NaturalDataset } from '@ldh/dicom';
import { DISC_LEVELS, type DiscLevel } from '@ldh/sr';
import type { InstanceStore } from '@ldh/storage';
import type { LevelFinding, WorklistResult } from '@ldh/worklist';

const POSITIVE = new Set(['ldh', 'present', 'positive', 'suspected', 'true']);

/** InferenceRun.perLevel (any well-formed subset) → levels in cranial-to-caudal order; malformed entries are ignored. */
export function levelFindings(perLevel: unknown, threshold: number): LevelFinding[] | undefined {
  if (!Array.isArray(perLevel)) return undefined;
  const out: LevelFinding[] = [];
  for (const e of perLevel as Array<Record<string, unknown>>) {
    const level = e?.level as DiscLevel;
    const p = e?.probability;
    if (!DISC_LEVELS.includes(level) || typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1) continue;
    const d = e.decision;
    const positive = typeof d === 'boolean' ? d : typeof d === 'string' ? POSITIVE.has(d.toLowerCase()) : p >= threshold;
    const uids = Array.isArray(e.sopInstanceUids) ? (e.sopInstanceUids as unknown[]).filter((u): u is string => typeof u === 'string') : undefined;
    out.push({ level, probability: p, positive, ...(uids ? { sopInstanceUids: uids } : {}) });
  }
  out.sort((a, b) => DISC_LEVELS.indexOf(a.level) - DISC_LEVELS.indexOf(b.level));
  return out.length > 0 ? out : undefined;
}

/** First value of `keyword` at the top level, else in the first Request Attributes Sequence item. */
function orderAttr(ds: NaturalDataset, keyword: string): string | undefined {
  const top = str(ds, keyword);
  if (top) return top;
  const seq = ds.RequestAttributesSequence as NaturalDataset[] | NaturalDataset | undefined;
  const item = Array.isArray(seq) ? seq[0] : seq;
  return item ? str(item, keyword) : undefined;
}

export async function loadWorklistResult(db: Db, store: Pick<InstanceStore, 'pathOf'>, deliveryId: string, manufacturer: string): Promise<WorklistResult> {
  const d = await db.delivery.findUniqueOrThrow({
    where: { id: deliveryId },
    include: { report: { include: { study: true, inferenceRun: { include: { modelVersion: true } } } } },
  });
  const { report } = d;
  const run = report.inferenceRun;
  const perImage = (run.perImage ?? []) as Array<{ sopInstanceUid: string }>;
  const source = await db.instance.findFirst({ where: { studyId: report.studyId, sopInstanceUid: { in: perImage.map((p) => p.sopInstanceUid) }, isCurrent: true } });
  if (!source) throw new Error(`no source instance of study ${report.study.studyInstanceUid} is on record`);
  const { dataset, characterSet } = readPart10(await readFile(store.pathOf(source.storageKey)), { headerOnly: true });
  const threshold = run.threshold ?? 0.5;
  const mv = run.modelVersion;
  const levels = levelFindings((run as { perLevel?: unknown }).perLevel, threshold);
  const name = personName(dataset, 'PatientName');
  const pick = <T extends Record<string, string | undefined>>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as { [K in keyof T]?: string };
  return {
    deliveryId: d.id,
    reportId: report.id,
    reportVersion: report.version,
    srSopInstanceUid: report.srSopInstanceUid,
    studyInstanceUid: report.study.studyInstanceUid,
    reportedAt: report.createdAt,
    patient: {
      ...pick({ id: str(dataset, 'PatientID'), issuer: str(dataset, 'IssuerOfPatientID'), birthDate: str(dataset, 'PatientBirthDate'), sex: str(dataset, 'PatientSex') }),
      ...(name ? { name } : {}),
    },
    study: {
      ...pick({
        accessionNumber: str(dataset, 'AccessionNumber'),
        placerOrderNumber: orderAttr(dataset, 'PlacerOrderNumberImagingServiceRequest'),
        fillerOrderNumber: orderAttr(dataset, 'FillerOrderNumberImagingServiceRequest'),
        studyDate: str(dataset, 'StudyDate'),
        studyTime: str(dataset, 'StudyTime'),
      }),
      specificCharacterSet: [...characterSet],
    },
    finding: { probability: run.studyProbability ?? 0, threshold, positive: run.decision === 'ldh' },
    ...(levels ? { levels } : {}),
    algorithm: {
      name: mv.name,
      version: mv.version,
      manufacturer,
      // The SR's Device Observer UID (report-job.ts): changes whenever the weights change.
      deviceUid: uidFromName(`ldh-model:${mv.name}:${mv.version}:${mv.sha256}`),
      placeholder: mv.placeholder,
    },
  };
}
