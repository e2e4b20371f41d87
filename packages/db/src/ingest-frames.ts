import type { FrameFacts } from '@ldh/dicom';

/** An Instance row's `frames` column does not hold what ingest writes there. */
export class StoredFramesError extends Error {
  override readonly name = 'StoredFramesError';
}

const isNumbers = (v: unknown, n: number): boolean => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/**
 * The per-frame facts of an Instance row (`frames`, JSON written at ingest), typed again for
 * routing and slice selection: undefined for a single-frame image, the frames in frame-number
 * order otherwise. Checks the shape it relies on (frame numbers 1..n in order, 3 position and 6
 * orientation numbers when present) and throws {@link StoredFramesError} naming the instance.
 */
export function storedFrames(instance: { sopInstanceUid: string; frames: unknown }): FrameFacts[] | undefined {
  const v = instance.frames;
  if (v === null || v === undefined) return undefined;
  const bad = (why: string) => new StoredFramesError(`Instance ${instance.sopInstanceUid}: frames${why.startsWith('[') ? '' : ' '}${why}`);
  if (!Array.isArray(v)) throw bad('is not an array');
  v.forEach((f: unknown, i) => {
    if (f === null || typeof f !== 'object') throw bad(`[${i}] is not an object`);
    const r = f as Record<string, unknown>;
    if (r.frameNumber !== i + 1) throw bad(`[${i}] has frameNumber ${String(r.frameNumber)}, expected ${i + 1}`);
    if (r.imagePositionPatient !== undefined && !isNumbers(r.imagePositionPatient, 3)) throw bad(`[${i}].imagePositionPatient is not 3 numbers`);
    if (r.imageOrientationPatient !== undefined && !isNumbers(r.imageOrientationPatient, 6)) throw bad(`[${i}].imageOrientationPatient is not 6 numbers`);
  });
  return v as FrameFacts[];
}
