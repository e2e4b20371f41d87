/**
 * Per-disc-level scores: the axial images of each disc level (assigned from geometry by
 * @ldh/dicom's `assignAxialDiscLevels`) aggregated into one probability per level, thresholded.
 * Sagittal images cross every level and say nothing about which one is herniated, so only
 * axial images count. The rule and threshold come from the card's `perLevel` section (chosen on
 * validation patients, see models/*.md), or the study rule when a card has none.
 *
 * The study probability and decision are NOT derived from the levels: they stay the card's
 * study rule, so existing thresholds and results keep their meaning.
 */
import { assignAxialDiscLevels, LUMBAR_DISC_LEVELS, type AxialSliceGeometry, type DiscLevelOptions, type LumbarDiscLevel } from '@ldh/dicom';
import { aggregateProbabilities, type Decision } from './aggregate.js';
import { ModelInputError } from './errors.js';
import type { Aggregation, ModelCard } from './model-card.js';

export type DiscLevel = LumbarDiscLevel;
export const DISC_LEVELS = LUMBAR_DISC_LEVELS;

/**
 * One level's result, stored as InferenceRun.perLevel (the shape HL7/FHIR builders read):
 * `sopInstanceUids` are the images the level was scored from, `keySopInstanceUid` the one with the
 * highest probability (with `keyFrameNumber` when it is a frame of a multi-frame instance).
 */
export interface LevelScore {
  level: DiscLevel;
  probability: number;
  decision: Decision;
  threshold?: number;
  sopInstanceUids: string[];
  keySopInstanceUid?: string;
  keyFrameNumber?: number;
  /** The same images with their frame numbers (a frame of a multi-frame instance is one image). */
  images: Array<{ sopInstanceUid: string; frameNumber?: number }>;
}

/** A scored axial image with the geometry needed to place it. */
export interface PlacedImageScore extends Omit<AxialSliceGeometry, 'key'> {
  sopInstanceUid: string;
  frameNumber?: number | undefined;
  probability: number;
}

/** The rule per-level scores use: the card's `perLevel` section, else its study rule. */
export function levelRule(card: Pick<ModelCard, 'aggregation' | 'threshold' | 'perLevel'>): { aggregation: Aggregation; threshold: number } {
  return card.perLevel ?? { aggregation: card.aggregation, threshold: card.threshold };
}

const imageKey = (i: { sopInstanceUid: string; frameNumber?: number | undefined }): string => (i.frameNumber === undefined ? i.sopInstanceUid : `${i.sopInstanceUid}#${i.frameNumber}`);

/**
 * Scores each disc level from its axial images, cranial→caudal; levels without axial images are
 * absent (never a made-up score). Throws ModelInputError on probabilities outside [0,1].
 */
export function scoreLevels(
  axial: readonly PlacedImageScore[],
  rule: { aggregation: Aggregation; threshold: number },
  geometry: DiscLevelOptions = {},
): LevelScore[] {
  if (!Number.isFinite(rule.threshold) || rule.threshold <= 0 || rule.threshold >= 1) throw new ModelInputError(`threshold must be in (0,1), got ${rule.threshold}`);
  const assignment = assignAxialDiscLevels(
    axial.map((a) => ({ ...a, key: imageKey(a) })),
    geometry,
  );
  const byLevel = new Map<DiscLevel, PlacedImageScore[]>();
  for (const img of axial) {
    const level = assignment.levelByKey.get(imageKey(img));
    if (level !== undefined) byLevel.set(level, [...(byLevel.get(level) ?? []), img]);
  }
  const out: LevelScore[] = [];
  for (const level of DISC_LEVELS) {
    const images = byLevel.get(level);
    if (!images || images.length === 0) continue;
    const probability = aggregateProbabilities(
      images.map((i) => i.probability),
      rule.aggregation,
    );
    // Ties go to the first image in input order, so the key image is deterministic.
    const key = images.reduce((best, i) => (i.probability > best.probability ? i : best));
    out.push({
      level,
      probability,
      decision: probability >= rule.threshold ? 'ldh' : 'healthy',
      threshold: rule.threshold,
      sopInstanceUids: [...new Set(images.map((i) => i.sopInstanceUid))],
      keySopInstanceUid: key.sopInstanceUid,
      ...(key.frameNumber !== undefined ? { keyFrameNumber: key.frameNumber } : {}),
      images: images.map((i) => ({ sopInstanceUid: i.sopInstanceUid, ...(i.frameNumber !== undefined ? { frameNumber: i.frameNumber } : {}) })),
    });
  }
  return out;
}

/** The most suspicious level (highest probability; the more caudal on a tie), or undefined. */
export function mostSuspiciousLevel<T extends { level: DiscLevel; probability: number }>(levels: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const l of levels) if (!best || l.probability > best.probability || (l.probability === best.probability && DISC_LEVELS.indexOf(l.level) > DISC_LEVELS.indexOf(best.level))) best = l;
  return best;
}
