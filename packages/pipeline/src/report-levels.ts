/**
 * What the report job makes of an inference run's per-level results (InferenceRun.perLevel, the
 * @ldh/model LevelScore shape): the SR's per-level groups, the KOS key images and the level the
 * Secondary Capture summary shows. Pure, so each mapping is unit-tested.
 */
import { mostSuspiciousLevel, type LevelScore } from '@ldh/model';
import { DISC_LEVELS, type LevelResult, type SourceImageRef } from '@ldh/sr';

/** Reads InferenceRun.perLevel defensively: a run from before per-level scoring has null. */
export function storedLevels(json: unknown): LevelScore[] {
  if (!Array.isArray(json)) return [];
  return json.filter(
    (l): l is LevelScore =>
      typeof l === 'object' &&
      l !== null &&
      (DISC_LEVELS as readonly string[]).includes((l as LevelScore).level) &&
      typeof (l as LevelScore).probability === 'number' &&
      ((l as LevelScore).decision === 'ldh' || (l as LevelScore).decision === 'healthy') &&
      Array.isArray((l as LevelScore).sopInstanceUids),
  );
}

/** The report image a level's key names (its frame for a multi-frame), if it is one of them. */
export function keyImageOf(level: LevelScore, images: readonly SourceImageRef[]): SourceImageRef | undefined {
  if (level.keySopInstanceUid === undefined) return undefined;
  return images.find((i) => i.sopInstanceUid === level.keySopInstanceUid && (level.keyFrameNumber === undefined || i.frameNumber === level.keyFrameNumber));
}

/** SR per-level groups: the level's axial images as sources, its key image, threshold and decision. */
export function levelResults(levels: readonly LevelScore[], images: readonly SourceImageRef[]): LevelResult[] {
  return levels.map((l) => {
    const key = keyImageOf(l, images);
    // Exact images (frames included) when recorded; otherwise the level's instances.
    const exact = new Set((l.images ?? []).map((i) => `${i.sopInstanceUid}#${i.frameNumber ?? 0}`));
    const uids = new Set(l.sopInstanceUids);
    const sources = images.filter((i) => i.role === 't2_ax' && (l.images ? exact.has(`${i.sopInstanceUid}#${i.frameNumber ?? 0}`) : uids.has(i.sopInstanceUid)));
    return {
      level: l.level,
      probability: l.probability,
      decision: l.decision,
      ...(l.threshold !== undefined ? { threshold: l.threshold } : {}),
      ...(key ? { sourceSopInstanceUid: key.sopInstanceUid, ...(key.frameNumber !== undefined ? { sourceFrameNumber: key.frameNumber } : {}) } : {}),
      sources: sources.map((s) => ({ sopInstanceUid: s.sopInstanceUid, ...(s.frameNumber !== undefined ? { frameNumber: s.frameNumber } : {}) })),
    };
  });
}

/**
 * Key images for the KOS, which flags a positive study only (the triage decision is the study's):
 * the key image of every positive level; when no level is positive (or none could be scored), the
 * three highest-scoring images as before. A negative study gets none.
 */
export function keyImages(levels: readonly LevelScore[], images: readonly SourceImageRef[], studyPositive: boolean): SourceImageRef[] {
  if (!studyPositive) return [];
  const fromLevels = levels.filter((l) => l.decision === 'ldh').flatMap((l) => keyImageOf(l, images) ?? []);
  if (fromLevels.length > 0) return fromLevels;
  return [...images].sort((a, b) => b.probability - a.probability).slice(0, 3);
}

/** The levels a KOS description names, e.g. "L4-L5, L5-S1". */
export function positiveLevelNames(levels: readonly LevelScore[]): string {
  return levels
    .filter((l) => l.decision === 'ldh')
    .map((l) => l.level)
    .join(', ');
}

/**
 * The image the summary shows: the key image of the most suspicious level, or (no level scored)
 * the highest-scoring image of the study.
 */
export function summaryKey(levels: readonly LevelScore[], images: readonly SourceImageRef[]): { level?: LevelScore; image?: SourceImageRef } {
  const level = mostSuspiciousLevel(levels);
  const image = (level ? keyImageOf(level, images) : undefined) ?? [...images].sort((a, b) => b.probability - a.probability)[0];
  return { ...(level ? { level } : {}), ...(image ? { image } : {}) };
}
