import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDatasetStructure } from './dataset-structure.js';
import { DatasetParseError } from './errors.js';
import { frameIdentityOf, FUNCTIONAL_GROUPS_CAPTURE, NUMBER_OF_FRAMES_TAG } from './frame-geometry.js';
import { identifyFile, identifyPart10 } from './identify-instance.js';
import { readPart10Layout } from './part10-meta.js';
import { buildTestEnhancedMrInstance } from './test-enhanced-instance.js';
import { buildTestMrInstance } from './test-instance.js';

const dir = mkdtempSync(join(tmpdir(), 'ldh-frames-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function save(name: string, bytes: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** pydicom (another toolkit) reads the same file: per-frame IPP and IOP as it resolves them. */
function pydicomGeometry(path: string): Array<{ ipp: number[]; iop: number[] }> {
  const script = `
import json, sys, pydicom
d = pydicom.dcmread(sys.argv[1], stop_before_pixels=True)
sh = d.SharedFunctionalGroupsSequence[0] if 'SharedFunctionalGroupsSequence' in d else None
def pick(item, seq, attr):
    for src in (item, sh):
        if src is not None and seq in src:
            return [float(x) for x in getattr(src[seq].value[0], attr)]
print(json.dumps([{'ipp': pick(f, 'PlanePositionSequence', 'ImagePositionPatient'), 'iop': pick(f, 'PlaneOrientationSequence', 'ImageOrientationPatient')} for f in d.PerFrameFunctionalGroupsSequence]))
`;
  // Debian's python3 has pydicom (a pyenv python3 earlier on PATH may not).
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, path]).toString()) as Array<{ ipp: number[]; iop: number[] }>;
}

const AX = [1, 0, 0, 0, 1, 0];
const TILTED = [1, 0, 0, 0, 0.9659258, -0.2588190];
const twoBlocks = [
  { orientation: AX, first: [-80, -80, 40], step: [0, 0, -4] },
  { orientation: TILTED, first: [-80, -80, -10], step: [0, 1.03528, 3.8637] },
];

describe('identify: per-frame geometry of an Enhanced MR', () => {
  const cases = [
    ['explicit VR LE, shared macros', { transferSyntaxUid: '1.2.840.10008.1.2.1' }],
    ['implicit VR LE, shared macros', { transferSyntaxUid: '1.2.840.10008.1.2' }],
    ['explicit VR BE, macros repeated per frame', { transferSyntaxUid: '1.2.840.10008.1.2.2', macros: 'per-frame' }],
  ] as const;
  for (const [name, opts] of cases) {
    it(`agrees with pydicom, in memory and from disk: ${name}`, () => {
      const file = buildTestEnhancedMrInstance({ ...opts, frames: 6, stacks: twoBlocks });
      const path = save(`emr-${opts.transferSyntaxUid}.dcm`, file);
      const fromMemory = identifyPart10(file);
      const fromDisk = identifyFile(path).identity;
      expect(fromDisk).toEqual(fromMemory);
      expect(fromMemory.numberOfFrames).toBe(6);
      expect(fromMemory.frameGeometryError).toBeUndefined();
      const peer = pydicomGeometry(path);
      expect(fromMemory.frames?.map((f) => ({ ipp: f.imagePositionPatient, iop: f.imageOrientationPatient }))).toEqual(peer);
      expect(peer[4]?.iop).toEqual(TILTED);
      expect(fromMemory.frames?.[4]).toMatchObject({ frameNumber: 5, stackId: '2', inStackPositionNumber: 2, pixelSpacing: [0.75, 0.75], sliceThickness: 4, repetitionTime: 3000, effectiveEchoTime: 90.4 });
      // No top-level position in an Enhanced MR: frame 1's stands in for consumers that know no frames.
      expect(fromMemory.imagePositionPatient).toEqual([-80, -80, 40]);
      expect(fromMemory.imageOrientationPatient).toEqual(AX);
      expect(fromMemory).toMatchObject({ sopClassUid: '1.2.840.10008.5.1.4.1.1.4.1', rows: 32, columns: 32, seriesDescription: 'T2W_TSE_SAG' });
    });
  }

  it('reads defined-length sequences and items (dcmtk dcmconv +e, also big endian)', () => {
    const src = save('emr-undefined.dcm', buildTestEnhancedMrInstance({ frames: 4, stacks: twoBlocks }));
    const expected = identifyPart10(readFileSync(src)).frames;
    for (const args of [['+e'], ['+e', '+tb'], ['+e', '+ti']]) {
      const out = join(dir, `emr-defined${args.join('')}.dcm`);
      execFileSync('dcmconv', [...args, src, out]);
      const dump = execFileSync('dcmdump', [out]).toString();
      expect(dump).toMatch(/\(5200,9230\) SQ \(Sequence with explicit length #=4\)/);
      const got = identifyFile(out).identity;
      expect(got.frames).toEqual(expected);
      expect(got.frames?.map((f) => ({ ipp: f.imagePositionPatient, iop: f.imageOrientationPatient }))).toEqual(pydicomGeometry(out));
    }
  });

  it('reads the functional groups of a > 8 MiB object through the file window without its pixel data', () => {
    const file = buildTestEnhancedMrInstance({ frames: 70, rows: 256, columns: 256 });
    expect(file.length).toBeGreaterThan(8 * 1024 * 1024);
    const { identity, bytesRead } = identifyFile(save('emr-large.dcm', file));
    expect(identity.frames).toHaveLength(70);
    expect(identity.frames?.[69]?.imagePositionPatient).toEqual([-20 + 69 * 4, -100, 80]);
    expect(bytesRead).toBeLessThan(256 * 1024);
  });

  it('stores a contradiction as a reason, not a refusal: per-frame items missing', () => {
    const id = identifyPart10(buildTestEnhancedMrInstance({ frames: 5, dropLastFrameItem: true }));
    expect(id.numberOfFrames).toBe(5);
    expect(id.frames).toBeUndefined();
    expect(id.frameGeometryError).toBe('PerFrameFunctionalGroupsSequence (5200,9230) has 4 items for 5 frames');
  });

  it("a third-party multi-frame with functional groups (pydicom's liver_1frame Segmentation: no NumberOfFrames)", () => {
    const base = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
    for (const name of ['liver_1frame.dcm', 'liver_expb_1frame.dcm']) {
      const id = identifyFile(join(base, name)).identity;
      expect(id.sopClassUid).toBe('1.2.840.10008.5.1.4.1.1.66.4');
      expect(id.numberOfFrames).toBeUndefined();
      expect(id.frameGeometryError).toBe('NumberOfFrames (0028,0008) is missing');
    }
  });

  it('leaves single-frame images as they were', () => {
    const id = identifyPart10(buildTestMrInstance());
    expect(id.numberOfFrames).toBeUndefined();
    expect(id.frames).toBeUndefined();
    expect(id.frameGeometryError).toBeUndefined();
  });

  it('bounds what it copies: past maxItems the capture stops and the reason says so', () => {
    const file = buildTestEnhancedMrInstance({ frames: 6 });
    const { datasetOffset } = readPart10Layout(file);
    const s = checkDatasetStructure(file, datasetOffset, { littleEndian: true, explicitVr: true }, new Set([NUMBER_OF_FRAMES_TAG]), { ...FUNCTIONAL_GROUPS_CAPTURE, maxItems: 10 });
    expect(s.captureOverflow).toBe(true);
    expect(frameIdentityOf(file, s, true).frameGeometryError).toMatch(/functional groups hold more than \d+ items/);
  });

  it('bounds each copied value: a longer one is a reason, not a crash', () => {
    const file = buildTestEnhancedMrInstance({ frames: 2 });
    const { datasetOffset } = readPart10Layout(file);
    const s = checkDatasetStructure(file, datasetOffset, { littleEndian: true, explicitVr: true }, new Set([NUMBER_OF_FRAMES_TAG]), { ...FUNCTIONAL_GROUPS_CAPTURE, maxValueBytes: 8 });
    expect(frameIdentityOf(file, s, true)).toMatchObject({ numberOfFrames: 2, frameGeometryError: expect.stringMatching(/^\w+ \([0-9A-F]{4},[0-9A-F]{4}\) has a \d+-byte value: too long for its VR$/) });
  });

  it('still refuses a dataset cut inside the functional groups', () => {
    const file = buildTestEnhancedMrInstance({ frames: 3 });
    const s = checkDatasetStructure(file, readPart10Layout(file).datasetOffset, { littleEndian: true, explicitVr: true });
    expect(s.pixelDataOffset).toBeDefined();
    const cut = file.indexOf(Buffer.from([0x20, 0x00, 0x13, 0x91])) + 30; // inside the first PlanePositionSequence
    expect(() => identifyPart10(file.subarray(0, cut))).toThrow(DatasetParseError);
  });
});
