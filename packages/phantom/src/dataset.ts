import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PhantomOptionError } from './errors.js';
import { DISC_LEVELS, formatLevelCell, isHerniation, parseLevelsSpec } from './levels.js';
import { Prng, hashSeed } from './prng.js';
import { loadPhantomCodecs } from './codecs.js';
import { vendorProfile } from './profiles/index.js';
import type { ProfileName } from './profiles/types.js';
import { generateStudy } from './study.js';
import { needsCodecs, transferSyntaxUidOf } from './transfer-syntax.js';
import type { PhantomSeries, PhantomStudy, WriteDatasetOptions, WrittenStudy } from './types.js';

/** Header of labels.csv: one row per study, one `grade:position:sizeMm` cell per disc level. */
export const LABELS_CSV_HEADER = ['study_uid', 'patient_id', 'case_dir', 'label', ...DISC_LEVELS].join(',');

/**
 * Header of images.csv: the truth of every image, for training with per-image labels (the paper
 * labels images, not studies). An axial slice is "ldh" when the level of its stack is a protrusion
 * or an extrusion; a sagittal slice carries the study label (a focal herniation is 14-20 mm wide
 * and at most 7.5 mm off the midline, so the central sagittal slices the contract picks cross it).
 */
export const IMAGES_CSV_HEADER = ['study_uid', 'sop_instance_uid', 'role', 'level', 'label'].join(',');

/**
 * Per-image truth of a generated study, as images.csv rows (without the header). A multi-frame
 * (Enhanced MR) instance has one row per frame, in frame order; a distractor series' images have
 * an empty role.
 */
export function imageTruthRows(study: PhantomStudy): string[] {
  const gradeOf = new Map(study.levels.map((l) => [l.level, l.grade]));
  const row = (sop: string, role: string, level: string | undefined): string => {
    const grade = level ? gradeOf.get(level as never) : undefined;
    const label = level ? (grade && isHerniation(grade) ? 'ldh' : 'healthy') : study.label;
    return [study.studyInstanceUid, sop, role, level ?? '', label].join(',');
  };
  return study.instances.flatMap((inst) => {
    if (inst.frames > 1) return Array.from({ length: inst.frames }, (_, k) => row(inst.sopInstanceUid, inst.role ?? '', inst.frameLevels?.[k]));
    return [row(inst.sopInstanceUid, inst.role ?? '', inst.level)];
  });
}

/** File name of the expected routing, beside labels.csv. */
export const ROUTING_TRUTH_FILE = 'routing-truth.json';

/** The expected routing of one study: every series, its expected role (or null) and why. */
export interface RoutingTruthStudy {
  caseDir: string;
  studyInstanceUid: string;
  profile: ProfileName;
  series: Array<Pick<PhantomSeries, 'seriesInstanceUid' | 'seriesNumber' | 'seriesDescription' | 'kind' | 'sopClassUid' | 'instanceCount' | 'frameCount' | 'why'> & { expectedRole: PhantomSeries['expectedRole'] }>;
}

/** routing-truth.json: `{ version: 1, studies: [...] }`. */
export interface RoutingTruth {
  version: 1;
  studies: RoutingTruthStudy[];
}

/** The routing truth of one generated study. */
export function routingTruth(study: PhantomStudy, caseDir: string): RoutingTruthStudy {
  return {
    caseDir,
    studyInstanceUid: study.studyInstanceUid,
    profile: study.profile,
    series: study.series.map((s) => ({
      seriesInstanceUid: s.seriesInstanceUid,
      seriesNumber: s.seriesNumber,
      seriesDescription: s.seriesDescription,
      kind: s.kind,
      sopClassUid: s.sopClassUid,
      instanceCount: s.instanceCount,
      frameCount: s.frameCount,
      expectedRole: s.expectedRole,
      why: s.why,
    })),
  };
}

/** The case folder name of a 1-based case index (`case-0001`). */
export function caseDirName(caseIndex: number): string {
  return `case-${String(caseIndex).padStart(4, '0')}`;
}

/**
 * Writes a training/demo dataset: `<outDir>/<case>/<role>/<NNN>.dcm` for each study and a
 * `labels.csv` with the truth, so the trainer reads labels without parsing DICOM. Study i uses
 * caseIndex i+1 (its own PatientID) and a per-study seed derived from `seed`; whether a study is
 * positive is drawn from `seed` so that about `ldhFraction` of them are.
 */
export async function writePhantomDataset(opts: WriteDatasetOptions): Promise<{ studies: WrittenStudy[]; labelsCsv: string }> {
  if (!Number.isInteger(opts.count) || opts.count < 1) throw new PhantomOptionError(`count must be a positive integer, got ${opts.count}`);
  const ldhFraction = opts.ldhFraction ?? 0.5;
  if (!(ldhFraction >= 0 && ldhFraction <= 1)) throw new PhantomOptionError(`ldhFraction must be in 0..1, got ${ldhFraction}`);
  const levels = opts.levels !== undefined ? parseLevelsSpec(opts.levels) : undefined;
  const profile = vendorProfile(opts.profile ?? 'generic');
  const transferSyntaxUid = transferSyntaxUidOf(opts.transferSyntax ?? profile.transferSyntax);
  if (needsCodecs(transferSyntaxUid)) await loadPhantomCodecs();
  const planner = new Prng(hashSeed(opts.seed) ^ 0x5eed);
  await mkdir(opts.outDir, { recursive: true });
  const rows: string[] = [LABELS_CSV_HEADER];
  const imageRows: string[] = [IMAGES_CSV_HEADER];
  const routing: RoutingTruth = { version: 1, studies: [] };
  const studies: WrittenStudy[] = [];
  for (let i = 0; i < opts.count; i++) {
    const caseIndex = i + 1;
    const positive = planner.next() < ldhFraction;
    const study = generateStudy({
      seed: opts.seed,
      caseIndex,
      difficulty: opts.difficulty ?? 'easy',
      transferSyntaxUid,
      profile: profile.name,
      positive,
      ...(levels !== undefined ? { levels } : {}),
      ...(opts.matrix !== undefined ? { matrix: opts.matrix } : {}),
      ...(opts.sagittalSlices !== undefined ? { sagittalSlices: opts.sagittalSlices } : {}),
    });
    const caseDir = caseDirName(caseIndex);
    const dir = join(opts.outDir, caseDir);
    const seriesDirs = new Set(study.instances.map((inst) => inst.seriesDir));
    for (const sd of seriesDirs) await mkdir(join(dir, sd), { recursive: true });
    for (const inst of study.instances) {
      await writeFile(join(dir, inst.seriesDir, `${String(inst.instanceNumber).padStart(3, '0')}.dcm`), inst.bytes);
    }
    routing.studies.push(routingTruth(study, caseDir));
    rows.push([study.studyInstanceUid, study.patientId, caseDir, study.label, ...study.levels.map(formatLevelCell)].join(','));
    imageRows.push(...imageTruthRows(study));
    studies.push({ studyInstanceUid: study.studyInstanceUid, patientId: study.patientId, label: study.label, dir, instanceCount: study.instances.length });
    opts.onProgress?.(i + 1, opts.count);
  }
  const labelsCsv = `${rows.join('\n')}\n`;
  await writeFile(join(opts.outDir, 'labels.csv'), labelsCsv);
  await writeFile(join(opts.outDir, 'images.csv'), `${imageRows.join('\n')}\n`);
  await writeFile(join(opts.outDir, ROUTING_TRUTH_FILE), `${JSON.stringify(routing, null, 2)}\n`);
  return { studies, labelsCsv };
}
