/**
 * Builders of realistic series facts for routing tests: positions and orientations as scanners
 * write them (one per instance), so plane, blocks and coverage are computed, not asserted.
 */
import type { SeriesFacts } from './facts.js';

export const SAG = [0, 1, 0, 0, 0, -1];
export const AX = [1, 0, 0, 0, 1, 0];
export const COR = [1, 0, 0, 0, 0, -1];

/** An axial orientation tilted by `deg` about the left-right axis (an angled disc block). */
export function tiltedAxial(deg: number): number[] {
  const r = (deg * Math.PI) / 180;
  return [1, 0, 0, 0, Math.cos(r), Math.sin(r)];
}

let uid = 0;

/** A sagittal stack of `n` slices across the canal (x), images 320 rows of 1 mm from z=150 down. */
export function sagittal(desc: string | null, extra: Partial<SeriesFacts> = {}, n = 13): SeriesFacts {
  const positions = Array.from({ length: n }, (_, k) => [-24 + 4 * k, -120, 150]);
  return base(desc, { orientations: positions.map(() => SAG), positions, rows: 320, columns: 320, pixelSpacing: [1, 1], ...extra });
}

/** An axial stack: `blocks` groups of `perBlock` slices, one group per disc, each with its own tilt. */
export function axial(desc: string | null, extra: Partial<SeriesFacts> = {}, blocks = [0, 8, -12], perBlock = 4): SeriesFacts {
  const orientations: number[][] = [];
  const positions: number[][] = [];
  blocks.forEach((tilt, b) => {
    for (let k = 0; k < perBlock; k++) {
      orientations.push(tiltedAxial(tilt));
      positions.push([-100, -120, -40 - 38 * b + 4 * k]);
    }
  });
  return base(desc, { orientations, positions, rows: 256, columns: 256, pixelSpacing: [0.7, 0.7], ...extra });
}

function base(desc: string | null, extra: Partial<SeriesFacts>): SeriesFacts {
  uid++;
  const n = extra.positions?.length ?? 12;
  return {
    seriesInstanceUid: `1.2.826.0.1.3680043.10.854.9.${uid}`,
    modality: 'MR',
    seriesDescription: desc,
    bodyPartExamined: 'LSPINE',
    seriesNumber: uid,
    instanceCount: n,
    sopClassUids: ['1.2.840.10008.5.1.4.1.1.4'],
    imageType: ['ORIGINAL', 'PRIMARY', 'M', 'ND'],
    frameOfReferenceUid: '1.2.826.0.1.3680043.10.854.8.1',
    source: 'header',
    ...extra,
  };
}

/** Typical spin-echo timings (ms) at 1.5 T. */
export const T1_SE = { repetitionTime: 550, echoTime: 10, scanningSequence: ['SE'], magneticFieldStrength: 1.5 };
export const T2_TSE = { repetitionTime: 3500, echoTime: 100, echoTrainLength: 17, scanningSequence: ['SE'], magneticFieldStrength: 1.5 };
