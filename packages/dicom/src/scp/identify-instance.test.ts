import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identifyFile, identifyStoredInstance } from './identify-instance.js';
import { buildPart10Header, readPart10Layout } from './part10-meta.js';
import { checkDatasetStructure, DatasetStructureError } from './dataset-structure.js';
import { DatasetParseError, InvalidInstanceError } from './errors.js';
import { buildTestMrInstance } from './test-instance.js';

describe('buildPart10Header / readPart10Layout', () => {
  it('round-trips the meta group and points at the dataset', async () => {
    const header = buildPart10Header({
      mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.4',
      mediaStorageSopInstanceUid: '1.2.3.4.5',
      transferSyntaxUid: '1.2.840.10008.1.2',
      sourceApplicationEntityTitle: 'MODALITY1',
    });
    const layout = readPart10Layout(Buffer.concat([header, Buffer.alloc(8)]));
    expect(layout.datasetOffset).toBe(header.length);
    expect(layout.transferSyntaxUid).toBe('1.2.840.10008.1.2');
    expect(header.length % 2).toBe(0);
    // dcmdump agrees with us (group length and every element).
    const dir = await mkdtemp(join(tmpdir(), 'ldh-meta-'));
    const file = join(dir, 'meta.dcm');
    await writeFile(file, header);
    const dump = execFileSync('dcmdump', ['-M', '+P', '0002,0016', '+P', '0002,0010', file]).toString();
    expect(dump).toContain('[MODALITY1]');
    expect(dump).toContain('=LittleEndianImplicit');
    await rm(dir, { recursive: true, force: true });
  });
});

describe('checkDatasetStructure', () => {
  const file = buildTestMrInstance({ rows: 32, columns: 32 });
  const { datasetOffset } = readPart10Layout(file);
  it('accepts a complete dataset and finds pixel data', () => {
    const s = checkDatasetStructure(file, datasetOffset, { littleEndian: true, explicitVr: true });
    expect(s.pixelDataOffset).toBeGreaterThan(datasetOffset);
    expect(s.topLevelElements).toBeGreaterThan(10);
  });
  it('rejects every truncation point inside the last element', () => {
    for (const cut of [1, 2, 7, 100, 2047]) {
      expect(() => checkDatasetStructure(file.subarray(0, file.length - cut), datasetOffset, { littleEndian: true, explicitVr: true })).toThrow(
        DatasetStructureError,
      );
    }
  });
});

describe('identifyStoredInstance', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ldh-identify-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function identify(buf: Buffer, name: string) {
    const p = join(dir, name);
    await writeFile(p, buf);
    return identifyStoredInstance(p);
  }

  it('extracts the routing attributes', async () => {
    const buf = buildTestMrInstance({ studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4', sopInstanceUid: '1.2.3.4.5', instanceNumber: 7 });
    const id = await identify(buf, 'ok.dcm');
    expect(id).toMatchObject({
      studyInstanceUid: '1.2.3',
      seriesInstanceUid: '1.2.3.4',
      sopInstanceUid: '1.2.3.4.5',
      sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      modality: 'MR',
      seriesDescription: 'T2 SAG',
      seriesNumber: 3,
      instanceNumber: 7,
      bodyPartExamined: 'LSPINE',
      imageOrientationPatient: [0, 1, 0, 0, 0, -1],
      imagePositionPatient: [-10, -100, 100],
      rows: 64,
      columns: 64,
    });
    expect(JSON.stringify(id)).not.toContain('SYNTHETIC');
  });

  it('reads implicit, big endian and deflated datasets (converted by dcmtk)', async () => {
    const src = join(dir, 'src.dcm');
    await writeFile(src, buildTestMrInstance({ sopInstanceUid: '1.2.9.9', instanceNumber: 2 }));
    for (const [flag, ts] of [
      ['+ti', '1.2.840.10008.1.2'],
      ['+tb', '1.2.840.10008.1.2.2'],
      ['+td', '1.2.840.10008.1.2.1.99'],
    ] as const) {
      const out = join(dir, `conv${flag}.dcm`);
      execFileSync('dcmconv', [flag, src, out]);
      const id = await identifyStoredInstance(out);
      expect(id.transferSyntaxUid).toBe(ts);
      expect(id.sopInstanceUid).toBe('1.2.9.9');
      expect(id.instanceNumber).toBe(2);
      expect(id.rows).toBe(64);
    }
  });

  it('rejects a truncated file with a parse error', async () => {
    const buf = buildTestMrInstance();
    await expect(identify(buf.subarray(0, buf.length - 100), 'trunc.dcm')).rejects.toBeInstanceOf(DatasetParseError);
  });

  it('rejects a dataset without a valid StudyInstanceUID', async () => {
    const buf = buildTestMrInstance({ studyInstanceUid: '1.2.x' });
    await expect(identify(buf, 'baduid.dcm')).rejects.toBeInstanceOf(InvalidInstanceError);
  });

  it('rejects garbage', async () => {
    await expect(identify(Buffer.alloc(500, 0x41), 'garbage.dcm')).rejects.toBeInstanceOf(DatasetParseError);
  });

  it('walks a 32 MiB instance reading only its headers, and still sees a truncated one', async () => {
    const big = buildTestMrInstance({ rows: 4096, columns: 4096, sopInstanceUid: '1.2.9.10' });
    const p = join(dir, 'big.dcm');
    await writeFile(p, big);
    const { identity, bytesRead } = identifyFile(p);
    expect(identity).toMatchObject({ sopInstanceUid: '1.2.9.10', rows: 4096, columns: 4096 });
    expect(big.length).toBeGreaterThan(32 * 1024 * 1024);
    expect(bytesRead).toBeLessThanOrEqual(16 * 1024); // the meta head and the element headers, never the 32 MiB of pixels
    await writeFile(p, big.subarray(0, big.length - 1));
    expect(() => identifyFile(p)).toThrow(DatasetParseError);
  });

  it('reads a file meta header longer than its first 4 KiB read', async () => {
    // (0002,0102) PrivateInformation of 6,000 bytes, last in the meta group, pushes the dataset past 4 KiB.
    const file = buildTestMrInstance({ sopInstanceUid: '1.2.9.12' });
    const { datasetOffset } = readPart10Layout(file);
    const element = Buffer.alloc(12 + 6000, 0x41);
    element.write('\x02\x00\x02\x01OB\x00\x00', 0, 'latin1');
    element.writeUInt32LE(6000, 8);
    const longMeta = Buffer.concat([file.subarray(0, datasetOffset), element, file.subarray(datasetOffset)]);
    longMeta.writeUInt32LE(longMeta.readUInt32LE(140) + element.length, 140); // (0002,0000) group length
    expect(readPart10Layout(longMeta).datasetOffset).toBe(datasetOffset + element.length);
    const p = join(dir, 'longmeta.dcm');
    await writeFile(p, longMeta);
    expect(identifyFile(p).identity.sopInstanceUid).toBe('1.2.9.12');
    // Cut inside the meta group: refused, not read from the middle of the meta header.
    expect(() => readPart10Layout(longMeta.subarray(0, 4096))).toThrow(/file meta/);
  });

  it('walks encapsulated (RLE) pixel data fragment by fragment', async () => {
    const src = join(dir, 'rle-src.dcm');
    const out = join(dir, 'rle.dcm');
    await writeFile(src, buildTestMrInstance({ rows: 1024, columns: 1024, sopInstanceUid: '1.2.9.11' }));
    execFileSync('dcmcrle', [src, out]);
    const { identity } = identifyFile(out);
    expect(identity).toMatchObject({ sopInstanceUid: '1.2.9.11', transferSyntaxUid: '1.2.840.10008.1.2.5', rows: 1024 });
  });

  it('refuses an identifying value far longer than its VR allows', async () => {
    // (0008,103E) SeriesDescription re-encoded with a long-form VR (UT: 32-bit length) and 70,000 bytes.
    const buf = buildTestMrInstance();
    const at = buf.indexOf(Buffer.from([0x08, 0x00, 0x3e, 0x10, 0x4c, 0x4f])); // tag + "LO"
    expect(at).toBeGreaterThan(0);
    const oldLength = buf.readUInt16LE(at + 6);
    const header = Buffer.from([0x08, 0x00, 0x3e, 0x10, 0x55, 0x54, 0, 0, 0, 0, 0, 0]);
    header.writeUInt32LE(70_000, 8);
    const patched = Buffer.concat([buf.subarray(0, at), header, Buffer.alloc(70_000, 0x78), buf.subarray(at + 8 + oldLength)]);
    const p = join(dir, 'long.dcm');
    await writeFile(p, patched);
    expect(() => identifyFile(p)).toThrow(/\(0008,103E\) has a 70000-byte value/);
  });
});

describe('FileBytes', () => {
  it('reads like the Buffer it windows over, at random positions, across window edges and backwards', async () => {
    const { FileBytes } = await import('./file-bytes.js');
    const { openSync, closeSync } = await import('node:fs');
    const dir = await mkdtemp(join(tmpdir(), 'ldh-filebytes-'));
    try {
      let seed = 12345;
      const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
      const buf = Buffer.alloc(300_000);
      for (let i = 0; i < buf.length; i++) buf[i] = rnd(256);
      const p = join(dir, 'bytes.bin');
      await writeFile(p, buf);
      const fd = openSync(p, 'r');
      try {
        const fb = new FileBytes(fd, buf.length);
        // Edges of 4 KiB and 64 KiB windows, then random positions (forwards, backwards, long slices).
        const positions = [0, 4094, 4095, 65534, 65535, 65536, 131070, buf.length - 4, ...Array.from({ length: 2000 }, () => rnd(buf.length - 4))];
        for (const pos of positions) {
          expect(fb.readUInt16LE(pos)).toBe(buf.readUInt16LE(pos));
          expect(fb.readUInt16BE(pos)).toBe(buf.readUInt16BE(pos));
          expect(fb.readUInt32LE(pos)).toBe(buf.readUInt32LE(pos));
          expect(fb.readUInt32BE(pos)).toBe(buf.readUInt32BE(pos));
          const end = Math.min(buf.length, pos + rnd(3) * 40_000 + rnd(70));
          expect(fb.subarray(pos, end).equals(buf.subarray(pos, end))).toBe(true);
          expect(fb.toString('latin1', pos, Math.min(buf.length, pos + 2))).toBe(buf.toString('latin1', pos, Math.min(buf.length, pos + 2)));
        }
        expect(() => fb.readUInt32LE(buf.length - 2)).toThrow(RangeError);
        expect(fb.subarray(10, 20)).not.toBe(fb.subarray(10, 20)); // copies, not views of the reused window
      } finally {
        closeSync(fd);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
