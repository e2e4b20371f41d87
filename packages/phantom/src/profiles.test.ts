import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { textCodec } from './charset.js';
import { loadPhantomCodecs } from './codecs.js';
import { PhantomOptionError } from './errors.js';
import { PROFILE_NAMES, vendorProfile } from './profiles/index.js';
import { generateStudy } from './study.js';
import { nums, readPart10 as readStrict } from './testing/read-part10.js';
import { ENHANCED_MR_IMAGE_STORAGE, IMPLICIT_VR_LITTLE_ENDIAN, MR_IMAGE_STORAGE, RLE_LOSSLESS, SECONDARY_CAPTURE_IMAGE_STORAGE, transferSyntaxUidOf } from './transfer-syntax.js';
import type { PhantomStudy } from './types.js';

const M = 64;
// Structure only: dcmjs reads a multi-valued charset with its first value; names are checked with pydicom (profiles.int.test.ts).
const readPart10 = (bytes: Uint8Array): ReturnType<typeof readStrict> => readStrict(bytes, { ignoreErrors: true });
beforeAll(async () => {
  await loadPhantomCodecs();
});

function sha256(study: PhantomStudy): string {
  const h = createHash('sha256');
  for (const i of study.instances) h.update(i.bytes);
  return h.digest('hex');
}

describe('generic profile', () => {
  // Hashes of the files written by the generator before profiles existed (commit 2ac243d): the
  // trained demo model and the training data depend on these bytes staying the same.
  it.each([
    [11, undefined, 96, 41, '70976b17e9bfbba75f37868630a828463bd71da1ef0f1601f48861aaa6c747e7'],
    [4, RLE_LOSSLESS, 128, 39, 'ff49a5516cc6736c448a3e9a13e9a55df0c3d470e42a87e4d398312360ef78ad'],
    [7, IMPLICIT_VR_LITTLE_ENDIAN, 64, 35, '8c3931a14d1ed34de18e0c7bdc211b55e42b7142bbeb516d915399537abde500'],
  ] as const)('seed %i, %s, matrix %i: byte-identical to the output before profiles', (seed, ts, matrix, count, hash) => {
    for (const profile of [undefined, 'generic'] as const) {
      const st = generateStudy({ seed, matrix, ...(ts ? { transferSyntaxUid: ts } : {}), ...(profile ? { profile } : {}) });
      expect(st.instances.length).toBe(count);
      expect(sha256(st)).toBe(hash);
    }
  });
});

describe('vendor profiles', () => {
  const studies = new Map<string, PhantomStudy>();
  const study = (name: string): PhantomStudy => {
    let st = studies.get(name);
    if (!st) {
      st = generateStudy({ seed: 3, matrix: M, profile: vendorProfile(name).name, levels: { 'L4-L5': 'protrusion' } });
      studies.set(name, st);
    }
    return st;
  };

  it('rejects an unknown profile with the list of known ones', () => {
    expect(() => generateStudy({ seed: 1, profile: 'toshiba' as never })).toThrow(PhantomOptionError);
    expect(() => generateStudy({ seed: 1, profile: 'toshiba' as never })).toThrow(/siemens, siemens-xa, ge/);
  });

  it.each(PROFILE_NAMES.filter((p) => p !== 'generic'))('%s: every series is written with its header, and each role is expected exactly once', (name) => {
    const profile = vendorProfile(name);
    const st = study(name);
    expect(st.profile).toBe(name);
    expect(st.series.map((s) => s.seriesNumber)).toEqual(profile.series.map((s) => s.seriesNumber));
    for (const role of ['t1_sag', 't2_sag', 't2_ax'] as const) expect(st.series.filter((s) => s.expectedRole === role)).toHaveLength(1);
    expect(new Set(st.series.map((s) => s.seriesInstanceUid)).size).toBe(st.series.length);
    // The same body as the generic study of the seed, under other UIDs.
    expect(st.studyInstanceUid).not.toBe(study('generic').studyInstanceUid);
    expect(st.levels).toEqual(study('generic').levels);
    for (const s of st.series) {
      const inst = st.instances.filter((i) => i.seriesInstanceUid === s.seriesInstanceUid);
      expect(inst.length).toBe(s.instanceCount);
      expect(s.why.length).toBeGreaterThan(5);
      const { meta, ds } = readPart10(inst[0]!.bytes);
      expect(meta.TransferSyntaxUID).toBe(transferSyntaxUidOf(profile.transferSyntax));
      expect(ds.SOPClassUID).toBe(s.sopClassUid);
      expect(Number(ds.SeriesNumber)).toBe(s.seriesNumber);
      if (s.kind === 'myelo_sc') {
        expect(s.sopClassUid).toBe(SECONDARY_CAPTURE_IMAGE_STORAGE);
        expect(s.instanceCount).toBe(3);
        expect(ds.SeriesDescription).toBeUndefined();
        continue;
      }
      expect(ds.SeriesDescription).toBe(s.seriesDescription);
      expect(ds.Manufacturer).toBe(profile.manufacturer);
      expect(ds.ManufacturerModelName).toBe(profile.modelName);
      expect(Number(ds.MagneticFieldStrength)).toBe(profile.fieldStrength);
      expect(ds.BodyPartExamined ?? '').toBe(profile.bodyPart);
      const imageType = ds.ImageType as string[];
      if (s.kind === 'mpr') expect(imageType).toEqual(['DERIVED', 'SECONDARY', 'REFORMATTED']);
      else expect(imageType.slice(0, 2)).toEqual(profile.imageType.slice(0, 2));
      if (s.kind === 't1_sag_post') expect(String(ds.ContrastBolusAgent)).toMatch(/GADO/);
      const def = profile.series.find((d) => d.seriesNumber === s.seriesNumber)!;
      if (!(profile.enhanced && s.kind !== 'mpr')) {
        expect(ds.ProtocolName).toBe(def.seq.protocolName);
        expect(ds.ScanningSequence).toEqual(def.seq.scanningSequence.length === 1 ? def.seq.scanningSequence[0] : def.seq.scanningSequence);
        const tr = Number(ds.RepetitionTime);
        expect(tr).toBeGreaterThanOrEqual(def.seq.tr[0]);
        expect(tr).toBeLessThanOrEqual(def.seq.tr[1]);
        if (def.seq.ti !== undefined) expect(Number(ds.InversionTime)).toBe(def.seq.ti);
      }
    }
  });

  it('DERIVED\\SECONDARY on every image of the hitachi profiles, ORIGINAL\\PRIMARY\\M\\ND on siemens', () => {
    for (const name of ['hitachi', 'hitachi-0.3t']) {
      for (const inst of study(name).instances) expect((readPart10(inst.bytes).ds.ImageType as string[]).slice(0, 2)).toEqual(['DERIVED', 'SECONDARY']);
    }
    const t2 = study('siemens').instances.find((i) => i.role === 't2_sag')!;
    expect(readPart10(t2.bytes).ds.ImageType).toEqual(['ORIGINAL', 'PRIMARY', 'M', 'ND']);
  });

  it('0.3 T low field: conventional spin-echo T1 timing and 12.77 MHz', () => {
    const st = study('hitachi-0.3t');
    const t1 = readPart10(st.instances.find((i) => i.role === 't1_sag')!.bytes).ds;
    expect(Number(t1.MagneticFieldStrength)).toBe(0.3);
    expect(Number(t1.ImagingFrequency)).toBeCloseTo(12.774, 2);
    expect(Number(t1.EchoTimes ?? t1.EchoTime)).toBeGreaterThanOrEqual(15);
    expect(Number(t1.EchoTrainLength)).toBe(1);
  });

  it('the axial series is one series of three separately angled blocks, one per lower disc', () => {
    for (const name of ['siemens', 'ge']) {
      const ax = study(name).instances.filter((i) => i.role === 't2_ax');
      expect(new Set(ax.map((i) => i.seriesInstanceUid)).size).toBe(1);
      expect(new Set(ax.map((i) => i.level))).toEqual(new Set(['L3-L4', 'L4-L5', 'L5-S1']));
      const iops = new Set(ax.map((i) => nums(readPart10(i.bytes).ds.ImageOrientationPatient).join(',')));
      expect(iops.size).toBe(3);
    }
  });

  it('the repeated and post-contrast series carry different pixels than the series routing should pick', () => {
    const ge = study('ge');
    const first = ge.instances.find((i) => i.kind === 't2_sag_first' && i.instanceNumber === 6)!;
    const chosen = ge.instances.find((i) => i.kind === 't2_sag' && i.instanceNumber === 6)!;
    expect(Buffer.from(first.bytes).equals(Buffer.from(chosen.bytes))).toBe(false);
    const byNumber = ge.series.map((s) => [s.kind, s.seriesNumber] as const);
    const n = (k: string): number => byNumber.find(([kind]) => kind === k)![1];
    expect(n('t2_sag')).toBeGreaterThan(n('t2_sag_first'));
    expect(n('t1_sag_post')).toBeGreaterThan(n('t1_sag'));
  });

  it('Enhanced MR (philips, siemens-xa): one multi-frame instance per series whose frames are the generic study\'s slices', () => {
    const generic = study('generic');
    for (const name of ['philips', 'siemens-xa']) {
      const st = study(name);
      for (const role of ['t1_sag', 't2_sag', 't2_ax'] as const) {
        const multi = st.instances.filter((i) => i.role === role);
        expect(multi).toHaveLength(1);
        const { ds } = readPart10(multi[0]!.bytes);
        expect(ds.SOPClassUID).toBe(ENHANCED_MR_IMAGE_STORAGE);
        const classic = generic.instances.filter((i) => i.role === role).map((i) => readPart10(i.bytes).ds);
        expect(Number(ds.NumberOfFrames)).toBe(classic.length);
        expect(multi[0]!.frames).toBe(classic.length);
        const shared = (ds.SharedFunctionalGroupsSequence as Array<Record<string, Array<Record<string, unknown>>>>)[0]!;
        expect(nums(shared.PixelMeasuresSequence![0]!.PixelSpacing)).toEqual(nums(classic[0]!.PixelSpacing));
        expect(shared.PixelValueTransformationSequence![0]!.RescaleSlope).toBeDefined();
        expect(shared.MRImageFrameTypeSequence![0]!.FrameType).toEqual(ds.ImageType);
        const perFrame = ds.PerFrameFunctionalGroupsSequence as Array<Record<string, Array<Record<string, unknown>>>>;
        expect(perFrame).toHaveLength(classic.length);
        const frameBytes = Number(ds.Rows) * Number(ds.Columns) * 2;
        const pixelData = new Uint8Array((ds.PixelData as ArrayBuffer[])[0]!);
        perFrame.forEach((f, k) => {
          expect(nums(f.PlanePositionSequence![0]!.ImagePositionPatient)).toEqual(nums(classic[k]!.ImagePositionPatient));
          expect(nums(f.PlaneOrientationSequence![0]!.ImageOrientationPatient)).toEqual(nums(classic[k]!.ImageOrientationPatient));
          const content = f.FrameContentSequence![0]!;
          expect(nums(content.DimensionIndexValues)).toEqual([Number(content.StackID), Number(content.InStackPositionNumber)]);
          const classicPixels = new Uint8Array((classic[k]!.PixelData as ArrayBuffer[])[0]!);
          expect(Buffer.from(pixelData.subarray(k * frameBytes, (k + 1) * frameBytes)).equals(Buffer.from(classicPixels))).toBe(true);
        });
        if (role === 't2_ax') {
          expect(new Set(perFrame.map((f) => f.FrameContentSequence![0]!.StackID))).toEqual(new Set(['1', '2', '3']));
          expect(multi[0]!.frameLevels).toEqual(generic.instances.filter((i) => i.role === 't2_ax').map((i) => i.level));
        }
      }
      const mpr = st.instances.filter((i) => i.kind === 'mpr');
      expect(mpr.length).toBe(5);
      expect(readPart10(mpr[0]!.bytes).ds.SOPClassUID).toBe(MR_IMAGE_STORAGE);
    }
  });

  it('compressed profiles need the encoders and name the transfer syntax otherwise', () => {
    expect(vendorProfile('united-imaging').transferSyntax).toBe('jpeg-ls');
    expect(vendorProfile('canon').transferSyntax).toBe('j2k');
    expect(vendorProfile('hitachi-0.3t').transferSyntax).toBe('j2k-lossy');
    const lossy = readPart10(study('hitachi-0.3t').instances[0]!.bytes).ds;
    expect(lossy.LossyImageCompression).toBe('01');
    expect(lossy.LossyImageCompressionMethod).toBe('ISO_15444_1');
  });
});

describe('text codecs', () => {
  it('refuse a character their set cannot hold, naming the set, instead of writing "?"', () => {
    expect(() => textCodec('latin1').encode('山田')).toThrow(/ISO_IR 100/);
    expect(() => textCodec('korean').encode('홍😀')).toThrow(/IR 149/);
    expect(() => textCodec('default').encode('Müller')).toThrow(PhantomOptionError);
  });

  it('writes IR 13 half-width katakana in G1 and IR 87 kanji between ESC $ B and ESC ( J (PS3.5 H.3.2)', () => {
    const bytes = textCodec('japanese').encode('ﾔﾏﾀﾞ^山田');
    expect(Buffer.from(bytes).toString('hex')).toBe(Buffer.from([0xd4, 0xcf, 0xc0, 0xde, 0x5e, 0x1b, 0x24, 0x42, 0x3b, 0x33, 0x45, 0x44, 0x1b, 0x28, 0x4a]).toString('hex'));
  });
});
