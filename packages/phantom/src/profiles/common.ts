import type { SeriesDef, SeriesKind, SequenceDef } from './types.js';

type Timing = Omit<SequenceDef, 'description' | 'protocolName' | 'sequenceName'>;

/**
 * Sequence timings by field strength, as vendors' routine lumbar protocols use them. A T1 TSE/FSE
 * at 1.5 T: TR 450-650, TE 8-12; at 3 T TR rises (T1 is longer); at 0.3 T a conventional spin
 * echo with TR 400-500 and TE 15-25. T2 TSE/FSE TE 90-120. STIR: TI ~150 ms at 1.5 T, ~220 ms at 3 T,
 * ~100 ms at 0.3 T (TI = T1(fat) x ln 2).
 */
export const TIMING = {
  t1Tse15: { scanningSequence: ['SE'], sequenceVariant: ['SK', 'SP', 'OSP'], scanOptions: ['PFP'], tr: [450, 650], te: [8, 12], etl: [3, 5], flipAngle: 150 },
  t1Tse3: { scanningSequence: ['SE'], sequenceVariant: ['SK', 'SP', 'OSP'], scanOptions: ['PFP'], tr: [600, 800], te: [8, 10], etl: [3, 5], flipAngle: 140 },
  t1Se03: { scanningSequence: ['SE'], sequenceVariant: ['SP'], scanOptions: [], tr: [400, 500], te: [15, 25], etl: [1, 1], flipAngle: 90 },
  t2Tse: { scanningSequence: ['SE'], sequenceVariant: ['SK', 'SP', 'OSP'], scanOptions: ['PFP'], tr: [3000, 4500], te: [90, 110], etl: [15, 21], flipAngle: 160 },
  t2Fse03: { scanningSequence: ['SE'], sequenceVariant: ['SK', 'SP'], scanOptions: [], tr: [3000, 4500], te: [100, 130], etl: [8, 12], flipAngle: 90 },
  stir15: { scanningSequence: ['SE', 'IR'], sequenceVariant: ['SK', 'SP', 'MP', 'OSP'], scanOptions: ['IR'], tr: [3500, 5000], te: [40, 70], etl: [11, 17], ti: 150, flipAngle: 150 },
  stir3: { scanningSequence: ['SE', 'IR'], sequenceVariant: ['SK', 'SP', 'MP', 'OSP'], scanOptions: ['IR'], tr: [4000, 5500], te: [40, 60], etl: [11, 17], ti: 220, flipAngle: 140 },
  /** GE's T1 FLAIR of the spine: an inversion-recovery fast spin echo. */
  t1FlairGe: { scanningSequence: ['SE', 'IR'], sequenceVariant: ['SK', 'MP'], scanOptions: ['FAST_GEMS', 'IR_GEMS'], tr: [2000, 2500], te: [9, 20], etl: [6, 8], ti: 860, flipAngle: 90 },
  loc: { scanningSequence: ['GR'], sequenceVariant: ['SP', 'OSP'], scanOptions: [], tr: [7, 9], te: [3, 4], etl: [1, 1], flipAngle: 20 },
} satisfies Record<string, Timing>;

export function seq(description: string | null, protocolName: string, sequenceName: string, timing: Timing): SequenceDef {
  return { description, protocolName, sequenceName, ...timing, tr: [...timing.tr], te: [...timing.te], etl: [...timing.etl] };
}

export function series(kind: SeriesKind, seriesNumber: number, def: SequenceDef): SeriesDef {
  return { kind, seriesNumber, seq: def };
}

/** The myelogram Secondary Capture: no description, no MR parameters that matter. */
export const MYELO_SC: SequenceDef = seq(null, '', '', { ...TIMING.t2Tse, tr: [4500, 4500], te: [700, 700] });
