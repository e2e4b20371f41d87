import { DISC_LEVELS, HERNIATION_POSITIONS, isHerniation } from './levels.js';
import type { Prng } from './prng.js';
import type { Difficulty, DiscLevel, HerniationGrade, HerniationPosition, LevelTruth } from './types.js';

/** Where herniations occur in real lumbar spines: mostly L4-L5 and L5-S1. */
const HERNIATION_LEVEL_WEIGHTS: Record<DiscLevel, number> = {
  'L1-L2': 0.03,
  'L2-L3': 0.05,
  'L3-L4': 0.12,
  'L4-L5': 0.42,
  'L5-S1': 0.38,
};

function weightedLevel(prng: Prng, exclude: ReadonlySet<DiscLevel>): DiscLevel {
  const candidates = DISC_LEVELS.filter((l) => !exclude.has(l));
  const total = candidates.reduce((a, l) => a + HERNIATION_LEVEL_WEIGHTS[l], 0);
  let r = prng.next() * total;
  for (const l of candidates) {
    r -= HERNIATION_LEVEL_WEIGHTS[l];
    if (r <= 0) return l;
  }
  return candidates[candidates.length - 1] ?? 'L4-L5';
}

/** Size range (posterior extension in mm) of a grade for a difficulty preset. */
export function sizeRange(grade: HerniationGrade, difficulty: Difficulty): [number, number] {
  switch (grade) {
    case 'none':
      return [0, 0];
    case 'bulge':
      return difficulty === 'hard' ? [1.5, 3] : [1.5, 2.5];
    case 'protrusion':
      return difficulty === 'hard' ? [2.5, 4] : [4, 7];
    case 'extrusion':
      return difficulty === 'hard' ? [4, 6] : [6, 10];
  }
}

/** Fills the unspecified parts of one level's truth from the seed. */
function completeLevel(
  level: DiscLevel,
  grade: HerniationGrade,
  given: Partial<LevelTruth>,
  difficulty: Difficulty,
  prng: Prng,
): LevelTruth {
  const levelIndex = DISC_LEVELS.indexOf(level);
  // Every draw is made whether or not the caller fixed the value, so fixing one field of one
  // level does not shift the random stream of the rest of the study.
  const baseDeg = prng.uniform(0, 0.35) + 0.06 * levelIndex;
  const extraDeg = prng.uniform(0, 0.3);
  const drawnPosition = prng.pick(HERNIATION_POSITIONS);
  const sizeU = prng.next();
  const degFloor = isHerniation(grade) ? 0.35 : grade === 'bulge' ? 0.2 : 0;
  const degeneration = clamp01(given.degeneration ?? Math.max(baseDeg, degFloor + extraDeg));
  const position: HerniationPosition = given.position ?? (grade === 'bulge' || grade === 'none' ? 'central' : drawnPosition);
  const [lo, hi] = sizeRange(grade, difficulty);
  const sizeMm = given.sizeMm ?? Math.round((lo + (hi - lo) * sizeU) * 10) / 10;
  return { level, grade, position, sizeMm: grade === 'none' ? 0 : sizeMm, degeneration: Math.round(degeneration * 100) / 100 };
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/**
 * The per-level truth of one study. Named levels keep what the caller fixed; when any level is
 * named the others are "none" (so a spec pins the label); otherwise grades are drawn so that the
 * study is positive when `positive` is true, following the difficulty preset.
 */
export function drawLevels(
  prng: Prng,
  difficulty: Difficulty,
  fixed: Partial<Record<DiscLevel, Partial<LevelTruth> | HerniationGrade>> | undefined,
  positive: boolean,
): LevelTruth[] {
  const grades = new Map<DiscLevel, HerniationGrade>();
  const given = new Map<DiscLevel, Partial<LevelTruth>>();
  const anyFixed = fixed !== undefined && Object.keys(fixed).length > 0;
  if (anyFixed) {
    for (const level of DISC_LEVELS) {
      const f = fixed[level];
      if (f === undefined) grades.set(level, 'none');
      else if (typeof f === 'string') grades.set(level, f);
      else {
        grades.set(level, f.grade ?? 'none');
        given.set(level, f);
      }
    }
  } else {
    for (const level of DISC_LEVELS) grades.set(level, 'none');
    if (positive) {
      const n = prng.chance(0.25) ? 2 : 1;
      const used = new Set<DiscLevel>();
      for (let i = 0; i < n; i++) {
        const level = weightedLevel(prng, used);
        used.add(level);
        grades.set(level, difficulty === 'hard' ? 'protrusion' : prng.chance(0.5) ? 'protrusion' : 'extrusion');
      }
    }
    // Bulges are common in both classes; in "hard" they are the confounder of small protrusions.
    const bulgeChance = difficulty === 'hard' ? 0.45 : 0.12;
    for (const level of DISC_LEVELS) {
      if (grades.get(level) === 'none' && DISC_LEVELS.indexOf(level) >= 2 && prng.chance(bulgeChance)) {
        grades.set(level, 'bulge');
      }
    }
    if (!positive && difficulty === 'hard' && ![...grades.values()].includes('bulge')) {
      grades.set(prng.chance(0.5) ? 'L4-L5' : 'L5-S1', 'bulge');
    }
  }
  return DISC_LEVELS.map((level) => completeLevel(level, grades.get(level) ?? 'none', given.get(level) ?? {}, difficulty, prng));
}
