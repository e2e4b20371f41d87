import { describe, expect, it } from 'vitest';
import { keyObjectSelectionDataset, SrInputError, buildKeyObjectSelection } from '@ldh/sr';
import { childLines, line } from './testing/tree.js';
import { sampleKeyObjectInput } from './testing/sample-input.js';

describe('TID 2010 key object selection', () => {
  const input = sampleKeyObjectInput();
  const ds = keyObjectSelectionDataset(input);

  it('is titled "Of Interest" and lists the description and bare image references', () => {
    expect(line(ds)).toBe('ROOT CONTAINER DCM:113000 [TID 2010]');
    const lines = childLines(ds);
    expect(lines.slice(0, 2)).toEqual(['HAS CONCEPT MOD CODE DCM:121049 = RFC5646:en-US', 'HAS OBS CONTEXT CODE DCM:121005 = DCM:121007']);
    expect(lines.slice(-3)).toEqual([
      'CONTAINS TEXT DCM:113012 = "AI: suspected LDH at L4-L5, L5-S1"',
      ...input.images.map((i) => `CONTAINS IMAGE - = ${i.sopInstanceUid}`),
    ]);
  });

  it('has the KOS header: Modality KO, evidence, no SR document flags', () => {
    expect(ds).toMatchObject({
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.59',
      Modality: 'KO',
      SeriesNumber: 9902,
      InstanceNumber: 1,
      ContentDate: '20261123',
      SpecificCharacterSet: 'ISO_IR 192',
    });
    expect(ds).not.toHaveProperty('CompletionFlag');
    expect(ds).not.toHaveProperty('VerificationFlag');
    const ev = ds.CurrentRequestedProcedureEvidenceSequence as { ReferencedSeriesSequence: { ReferencedSOPSequence: unknown[] }[] }[];
    expect(ev[0]?.ReferencedSeriesSequence.flatMap((s) => s.ReferencedSOPSequence)).toHaveLength(2);
  });

  it('refuses an empty description or no images', () => {
    expect(() => buildKeyObjectSelection(sampleKeyObjectInput({ description: '' }))).toThrow(SrInputError);
    expect(() => buildKeyObjectSelection(sampleKeyObjectInput({ images: [] }))).toThrow(/^images: /);
  });
});
