import { PhantomSpecError } from './errors.js';
import type { DiscLevel, HerniationGrade, HerniationPosition, LevelTruth, StudyLabel } from './types.js';

/** Disc levels, cranial to caudal. */
export const DISC_LEVELS: readonly DiscLevel[] = ['L1-L2', 'L2-L3', 'L3-L4', 'L4-L5', 'L5-S1'];
export const HERNIATION_GRADES: readonly HerniationGrade[] = ['none', 'bulge', 'protrusion', 'extrusion'];
export const HERNIATION_POSITIONS: readonly HerniationPosition[] = ['central', 'paracentral-left', 'paracentral-right'];

/** A grade that makes a study positive: a bulge is not a herniation. */
export function isHerniation(grade: HerniationGrade): boolean {
  return grade === 'protrusion' || grade === 'extrusion';
}

/** The study label rule: "ldh" when any level is a protrusion or an extrusion, otherwise "healthy". */
export function studyLabel(levels: readonly Pick<LevelTruth, 'grade'>[]): StudyLabel {
  return levels.some((l) => isHerniation(l.grade)) ? 'ldh' : 'healthy';
}

function isDiscLevel(s: string): s is DiscLevel {
  return (DISC_LEVELS as readonly string[]).includes(s);
}

function isGrade(s: string): s is HerniationGrade {
  return (HERNIATION_GRADES as readonly string[]).includes(s);
}

/**
 * Parses "L4-L5:protrusion,L5-S1:bulge" (case-insensitive level names, whitespace allowed) so a CLI
 * flag can pin the truth of a dataset; throws PhantomSpecError naming the bad token.
 */
export function parseLevelsSpec(spec: string): Partial<Record<DiscLevel, HerniationGrade>> {
  const out: Partial<Record<DiscLevel, HerniationGrade>> = {};
  const trimmed = spec.trim();
  if (trimmed === '') return out;
  for (const rawToken of trimmed.split(',')) {
    const token = rawToken.trim();
    const parts = token.split(':');
    if (parts.length !== 2) {
      throw new PhantomSpecError(`levels spec: "${token}" is not LEVEL:GRADE (e.g. L4-L5:protrusion)`, token);
    }
    const level = (parts[0] ?? '').trim().toUpperCase();
    const grade = (parts[1] ?? '').trim().toLowerCase();
    if (!isDiscLevel(level)) {
      throw new PhantomSpecError(`levels spec: unknown disc level "${parts[0] ?? ''}" in "${token}" (expected one of ${DISC_LEVELS.join(', ')})`, token);
    }
    if (!isGrade(grade)) {
      throw new PhantomSpecError(`levels spec: unknown grade "${parts[1] ?? ''}" in "${token}" (expected one of ${HERNIATION_GRADES.join(', ')})`, token);
    }
    if (out[level] !== undefined) {
      throw new PhantomSpecError(`levels spec: level ${level} given twice in "${token}"`, token);
    }
    out[level] = grade;
  }
  return out;
}

/** One CSV cell for a level: `grade:position:sizeMm` with an empty position for "none" (`none::0`). */
export function formatLevelCell(t: LevelTruth): string {
  const pos = t.grade === 'none' ? '' : t.position;
  const size = t.grade === 'none' ? 0 : Math.round(t.sizeMm * 10) / 10;
  return `${t.grade}:${pos}:${size}`;
}
