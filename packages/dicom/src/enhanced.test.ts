import { describe, expect, it } from 'vitest';
import { FunctionalGroupsError, readEnhancedMrFrames, readFrameFacts } from './enhanced.js';
import { readPart10 } from './header.js';
import { buildTestEnhancedMrInstance } from './scp/test-enhanced-instance.js';

const SAG = [0, 1, 0, 0, 0, -1];
const AX = [1, 0, 0, 0, 1, 0];

/** A naturalized Enhanced MR header (dcmjs' shape) with `n` frames along x. */
function header(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    NumberOfFrames: n,
    SharedFunctionalGroupsSequence: [{ PlaneOrientationSequence: [{ ImageOrientationPatient: SAG }], PixelMeasuresSequence: [{ PixelSpacing: [0.5, 0.6], SliceThickness: 3 }] }],
    PerFrameFunctionalGroupsSequence: Array.from({ length: n }, (_, k) => ({ PlanePositionSequence: [{ ImagePositionPatient: [k * 4, -100, 50] }] })),
    ...extra,
  };
}

describe('readFrameFacts', () => {
  it('gives every frame the shared macros and its own position', () => {
    const { numberOfFrames, frames } = readFrameFacts(header(3));
    expect(numberOfFrames).toBe(3);
    expect(frames).toEqual([0, 1, 2].map((k) => ({ frameNumber: k + 1, imagePositionPatient: [k * 4, -100, 50], imageOrientationPatient: SAG, pixelSpacing: [0.5, 0.6], sliceThickness: 3 })));
  });

  it('lets a per-frame macro win over the shared one (two angled blocks)', () => {
    const ds = header(2);
    (ds.PerFrameFunctionalGroupsSequence as Array<Record<string, unknown>>)[1]!.PlaneOrientationSequence = [{ ImageOrientationPatient: AX }];
    const { frames } = readFrameFacts(ds);
    expect(frames[0]!.imageOrientationPatient).toEqual(SAG);
    expect(frames[1]!.imageOrientationPatient).toEqual(AX);
  });

  it('reads numeric strings as dcmjs leaves them for DS/IS, and multi-valued CS', () => {
    const ds = header(1, {
      NumberOfFrames: '1',
      PerFrameFunctionalGroupsSequence: [
        {
          PlanePositionSequence: [{ ImagePositionPatient: ['1.5', ' -2', '3e1'] }],
          FrameContentSequence: [{ StackID: '2 ', InStackPositionNumber: 7 }],
          MRImageFrameTypeSequence: [{ FrameType: ['ORIGINAL', 'PRIMARY', 'M', 'NONE'] }],
          MRTimingAndRelatedParametersSequence: [{ RepetitionTime: '600' }],
          MREchoSequence: [{ EffectiveEchoTime: 12.5 }],
        },
      ],
    });
    expect(readFrameFacts(ds).frames[0]).toMatchObject({
      imagePositionPatient: [1.5, -2, 30],
      stackId: '2',
      inStackPositionNumber: 7,
      frameType: ['ORIGINAL', 'PRIMARY', 'M', 'NONE'],
      repetitionTime: 600,
      effectiveEchoTime: 12.5,
    });
  });

  it('names what is wrong: missing groups, counts, item shapes, malformed values', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ NumberOfFrames: 2 }, /neither SharedFunctionalGroupsSequence \(5200,9229\) nor PerFrameFunctionalGroupsSequence/],
      [header(3, { NumberOfFrames: undefined }), /NumberOfFrames \(0028,0008\) is missing/],
      [header(3, { NumberOfFrames: 0 }), /NumberOfFrames \(0028,0008\) is 0, not a positive integer/],
      [header(3, { NumberOfFrames: 'abc' }), /NumberOfFrames \(0028,0008\) is not 1 number/],
      [header(3, { NumberOfFrames: 1e9 }), /more than the 65536 supported/],
      [header(3, { NumberOfFrames: 4 }), /PerFrameFunctionalGroupsSequence \(5200,9230\) has 3 items for 4 frames/],
      [header(2, { SharedFunctionalGroupsSequence: [{}, {}] }), /SharedFunctionalGroupsSequence \(5200,9229\) has 2 items; it must have exactly one/],
      [header(2, { PerFrameFunctionalGroupsSequence: [{ PlanePositionSequence: [{ ImagePositionPatient: [1, 2] }] }, {}] }), /ImagePositionPatient \(0020,0032\) of frame 1 is not 3 numbers/],
      [header(2, { PerFrameFunctionalGroupsSequence: [{}, { PlanePositionSequence: [{}, {}] }] }), /PlanePositionSequence in PerFrameFunctionalGroupsSequence frame 2 has 2 items/],
      [header(1, { PerFrameFunctionalGroupsSequence: ['x'] }), /an item is not a dataset/],
    ];
    for (const [ds, message] of cases) {
      expect(() => readFrameFacts(ds)).toThrow(FunctionalGroupsError);
      expect(() => readFrameFacts(ds)).toThrow(message);
    }
  });

  it('accepts a frame without position, but readEnhancedMrFrames (Enhanced MR needs it) names the frame', () => {
    const ds = header(3);
    delete (ds.PerFrameFunctionalGroupsSequence as Array<Record<string, unknown>>)[2]!.PlanePositionSequence;
    expect(readFrameFacts(ds).frames[2]!.imagePositionPatient).toBeUndefined();
    expect(() => readEnhancedMrFrames(ds)).toThrow(/frame 3 has no PlanePositionSequence \(0020,9113\)/);
    expect(readEnhancedMrFrames(header(2)).frames).toHaveLength(2);
  });

  it('reads a dcmjs header of a written Enhanced MR (the routing path)', () => {
    const file = buildTestEnhancedMrInstance({ frames: 4, stacks: [{ orientation: AX, first: [0, 0, 10], step: [0, 0, -5] }] });
    const { dataset } = readPart10(file, { headerOnly: true });
    const { frames } = readEnhancedMrFrames(dataset);
    expect(frames.map((f) => f.imagePositionPatient)).toEqual([[0, 0, 10], [0, 0, 5], [0, 0, 0], [0, 0, -5]]);
    expect(frames[3]).toMatchObject({ imageOrientationPatient: AX, pixelSpacing: [0.75, 0.75], sliceThickness: 4, repetitionTime: 3000, effectiveEchoTime: 90.3, stackId: '1', inStackPositionNumber: 4, rescaleSlope: 1, rescaleIntercept: 0 });
  });
});
