import { describe, expect, it } from 'vitest';
import { aggregateProbabilities, scoreStudy, ModelInputError } from '@ldh/model';

const chosenOn = 'test';

describe('aggregateProbabilities', () => {
  const ps = [0.1, 0.9, 0.4, 0.7, 0.2];

  it('mean averages every image', () => {
    expect(aggregateProbabilities(ps, { method: 'mean', chosenOn })).toBeCloseTo(0.46, 12);
  });

  it('max takes the most suspicious image', () => {
    expect(aggregateProbabilities(ps, { method: 'max', chosenOn })).toBe(0.9);
  });

  it('topk-mean averages the k highest, whatever their order', () => {
    expect(aggregateProbabilities(ps, { method: 'topk-mean', k: 3, chosenOn })).toBeCloseTo((0.9 + 0.7 + 0.4) / 3, 12);
    expect(aggregateProbabilities([...ps].reverse(), { method: 'topk-mean', k: 2, chosenOn })).toBeCloseTo(0.8, 12);
  });

  it('topk-mean with k ≥ n is the mean, k = 1 is the max', () => {
    expect(aggregateProbabilities(ps, { method: 'topk-mean', k: 50, chosenOn })).toBeCloseTo(0.46, 12);
    expect(aggregateProbabilities(ps, { method: 'topk-mean', k: 1, chosenOn })).toBe(0.9);
  });

  it('does not reorder the caller’s array', () => {
    const copy = [...ps];
    aggregateProbabilities(copy, { method: 'topk-mean', k: 2, chosenOn });
    expect(copy).toEqual(ps);
  });

  it('rejects empty input and values outside [0,1] with ModelInputError', () => {
    expect(() => aggregateProbabilities([], { method: 'mean', chosenOn })).toThrow(ModelInputError);
    expect(() => aggregateProbabilities([0.2, NaN], { method: 'max', chosenOn })).toThrow(/probability 1/);
    expect(() => aggregateProbabilities([1.5], { method: 'mean', chosenOn })).toThrow(ModelInputError);
    expect(() => aggregateProbabilities([-0.1], { method: 'mean', chosenOn })).toThrow(ModelInputError);
  });
});

describe('scoreStudy', () => {
  it('decides ldh at or above the threshold, healthy below, and reports the threshold', () => {
    expect(scoreStudy([0.5], { method: 'mean', chosenOn }, 0.5)).toEqual({ probability: 0.5, decision: 'ldh', threshold: 0.5 });
    expect(scoreStudy([0.49], { method: 'mean', chosenOn }, 0.5).decision).toBe('healthy');
    expect(scoreStudy([0.1, 0.8], { method: 'max', chosenOn }, 0.7)).toEqual({ probability: 0.8, decision: 'ldh', threshold: 0.7 });
    expect(scoreStudy([0.1, 0.8], { method: 'mean', chosenOn }, 0.7).decision).toBe('healthy');
  });

  it('rejects a threshold outside (0,1)', () => {
    for (const t of [0, 1, -1, NaN]) expect(() => scoreStudy([0.5], { method: 'mean', chosenOn }, t)).toThrow(ModelInputError);
  });
});
