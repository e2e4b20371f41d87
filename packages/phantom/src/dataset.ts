import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PhantomOptionError } from './errors.js';
import { DISC_LEVELS, formatLevelCell, isHerniation, parseLevelsSpec } from './levels.js';
import { Prng, hashSeed } from './prng.js';
import { generateStudy } from './study.js';
import { transferSyntaxUidOf } from './transfer-syntax.js';
import type { PhantomStudy, WriteDatasetOptions, WrittenStudy } from './types.js';

/** Header of labels.csv: one row per study, one `grade:position:sizeMm` cell per disc level. */
export const LABELS_CSV_HEADER = ['study_uid', 'patient_id', 'case_dir', 'label', ...DISC_LEVELS].join(',');

/**
 * Header of images.csv: the truth of every image, for training with per-image labels (the paper
 * labels images, not studies). An axial slice is "ldh" when the level of its stack is a protrusion
 * or an extrusion; a sagittal slice carries the study label (a focal herniation is 14-20 mm wide
 * and at most 7.5 mm off the midline, so the central sagittal slices the contract picks cross it).
 */
export const IMAGES_CSV_HEADER = ['study_uid', 'sop_instance_uid', 'role', 'level', 'label'].join(',');

/** Per-image truth of a generated study, as images.csv rows (without the header). */
export function imageTruthRows(study: PhantomStudy): string[] {
  const gradeOf = new Map(study.levels.map((l) => [l.level, l.grade]));
  return study.instances.map((inst) => {
    const grade = inst.level ? gradeOf.get(inst.level) : undefined;
    const label = inst.level ? (grade && isHerniation(grade) ? 'ldh' : 'healthy') : study.label;
    return [study.studyInstanceUid, inst.sopInstanceUid, inst.role, inst.level ?? '', label].join(',');
  });
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
  const transferSyntaxUid = transferSyntaxUidOf(opts.transferSyntax ?? 'explicit-le');
  const planner = new Prng(hashSeed(opts.seed) ^ 0x5eed);
  await mkdir(opts.outDir, { recursive: true });
  const rows: string[] = [LABELS_CSV_HEADER];
  const imageRows: string[] = [IMAGES_CSV_HEADER];
  const studies: WrittenStudy[] = [];
  for (let i = 0; i < opts.count; i++) {
    const caseIndex = i + 1;
    const positive = planner.next() < ldhFraction;
    const study = generateStudy({
      seed: opts.seed,
      caseIndex,
      difficulty: opts.difficulty ?? 'easy',
      transferSyntaxUid,
      positive,
      ...(levels !== undefined ? { levels } : {}),
      ...(opts.matrix !== undefined ? { matrix: opts.matrix } : {}),
      ...(opts.sagittalSlices !== undefined ? { sagittalSlices: opts.sagittalSlices } : {}),
    });
    const caseDir = caseDirName(caseIndex);
    const dir = join(opts.outDir, caseDir);
    const roles = new Set(study.instances.map((inst) => inst.role));
    for (const role of roles) await mkdir(join(dir, role), { recursive: true });
    for (const inst of study.instances) {
      await writeFile(join(dir, inst.role, `${String(inst.instanceNumber).padStart(3, '0')}.dcm`), inst.bytes);
    }
    rows.push([study.studyInstanceUid, study.patientId, caseDir, study.label, ...study.levels.map(formatLevelCell)].join(','));
    imageRows.push(...imageTruthRows(study));
    studies.push({ studyInstanceUid: study.studyInstanceUid, patientId: study.patientId, label: study.label, dir, instanceCount: study.instances.length });
    opts.onProgress?.(i + 1, opts.count);
  }
  const labelsCsv = `${rows.join('\n')}\n`;
  await writeFile(join(opts.outDir, 'labels.csv'), labelsCsv);
  await writeFile(join(opts.outDir, 'images.csv'), `${imageRows.join('\n')}\n`);
  return { studies, labelsCsv };
}
