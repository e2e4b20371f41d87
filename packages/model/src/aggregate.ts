/**
 * Study-level aggregation: the paper classifies single images; a study gets one probability by
 * the rule the card names (chosen on validation folds by the training engineer), then one
 * threshold. Kept pure so the rule is unit-tested independently of ONNX.
 */
import { ModelInputError } from './errors.js';
import type { Aggregation } from './model-card.js';

export type Decision = 'ldh' | 'healthy';

export interface StudyScore {
  probability: number;
  decision: Decision;
  threshold: number;
}

/** Combines per-image probabilities into one, per `mean`, `max` or `topk-mean` (k clipped to n). */
export function aggregateProbabilities(probabilities: readonly number[], aggregation: Aggregation): number {
  if (probabilities.length === 0) throw new ModelInputError('cannot aggregate zero image probabilities');
  probabilities.forEach((p, i) => {
    if (!Number.isFinite(p) || p < 0 || p > 1) throw new ModelInputError(`probability ${i} is ${p}, not in [0,1]`, i);
  });
  const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  switch (aggregation.method) {
    case 'mean':
      return mean(probabilities);
    case 'max':
      return Math.max(...probabilities);
    case 'topk-mean': {
      const top = [...probabilities].sort((a, b) => b - a).slice(0, Math.min(aggregation.k, probabilities.length));
      return mean(top);
    }
  }
}

/**
 * Aggregates and thresholds: `ldh` when the study probability is ≥ `threshold`. The threshold is
 * returned with the decision so a report can show what the decision was taken against.
 */
export function scoreStudy(probabilities: readonly number[], aggregation: Aggregation, threshold: number): StudyScore {
  if (!Number.isFinite(threshold) || threshold <= 0 || threshold >= 1) {
    throw new ModelInputError(`threshold must be in (0,1), got ${threshold}`);
  }
  const probability = aggregateProbabilities(probabilities, aggregation);
  return { probability, decision: probability >= threshold ? 'ldh' : 'healthy', threshold };
}
