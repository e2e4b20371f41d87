import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CharsetError } from './charset.js';
import { readPart10, strings, type NaturalDataset } from './header.js';
import { identifyPart10 } from './scp/identify-instance.js';
import { pydicomCharsetDir, pydicomText, writeCharsetMatrix, type PydicomText } from './testing/pydicom-text.js';

// Third-party files and a third-party decoder: pydicom's character-set test files, and what
// pydicom decodes from them, against our header reader. Nothing expected is written by hand.

const dir = pydicomCharsetDir();
const files = readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort();
const reference = pydicomText(files.map((f) => join(dir, f)));

/** Our value at a pydicom path (keywords and item indices), as pydicom shapes it. */
function ours(ds: NaturalDataset, el: PydicomText): (string | string[])[] {
  let node: NaturalDataset = ds;
  for (let i = 0; i < el.path.length - 1; i += 2) {
    const seq = node[String(el.path[i])] as NaturalDataset[];
    node = seq[Number(el.path[i + 1])]!;
  }
  const values = strings(node, String(el.path[el.path.length - 1]));
  if (values.every((v) => v === '')) return [];
  return el.vr === 'PN' ? values.map((v) => groups(v.split('='))) : values;
}
/** Component groups without trailing empty ones (pydicom's `components` drops them). */
const groups = (g: string[]): string[] => {
  const out = [...g];
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
};

describe('pydicom charset files: our header reader vs pydicom', () => {
  it('finds the files', () => {
    expect(files).toEqual(expect.arrayContaining(['chrJapMulti.dcm', 'chrJapMultiExplicitIR6.dcm', 'chrH31.dcm', 'chrH32.dcm', 'chrKoreanMulti.dcm', 'chrX1.dcm', 'chrX2.dcm', 'chrSQEncoding.dcm']));
  });

  for (const f of files) {
    it(`${f}: every charset-dependent text value equals pydicom's`, () => {
      const ref = reference[join(dir, f)]!;
      const { dataset, characterSet } = readPart10(readFileSync(join(dir, f)));
      expect(characterSet).toEqual(ref.characterSet);
      expect(ref.elements.length).toBeGreaterThan(0);
      // Private tags are left out: pydicom types them from its private dictionary, we do not decode private data.
      for (const el of ref.elements.filter((e) => !/^[0-9A-F]{8}$/.test(String(e.path[e.path.length - 1])))) {
        expect({ path: el.path, values: ours(dataset, el) }).toEqual({ path: el.path, values: el.values.map((v) => (Array.isArray(v) ? groups(v) : v)) });
      }
      // The decoded names hold no replacement character and no escape: the comparison is meaningful.
      expect(JSON.stringify(ref.elements)).not.toMatch(/\\u(fffd|001b)/i);
    });
  }

  it('reads the multi-valued Japanese name headerOnly too, with all three groups', () => {
    const { dataset } = readPart10(readFileSync(join(dir, 'chrH32.dcm')), { headerOnly: true });
    const ref = reference[join(dir, 'chrH32.dcm')]!.elements.find((e) => e.path[0] === 'PatientName')!;
    expect(strings(dataset, 'PatientName')[0]!.split('=')).toEqual(ref.values[0]);
    expect(ref.values[0]).toHaveLength(3);
  });
});

describe('charset matrix written by pydicom: header reader and SCP identity vs the reference', () => {
  const out = mkdtempSync(join(tmpdir(), 'ldh-charset-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const matrix = writeCharsetMatrix(out);
  const decoded = pydicomText(matrix.filter((m) => m.reference === null).map((m) => m.file));

  for (const m of matrix) {
    it(`${m.name} (${m.characterSet.join('\\')}, ${m.transferSyntax})`, () => {
      const ref =
        m.reference ??
        (() => {
          const els = decoded[m.file]!.elements;
          const pn = els.find((e) => e.path[0] === 'PatientName')!.values[0] as string[];
          const desc = els.find((e) => e.path[0] === 'SeriesDescription')!.values[0] as string;
          return { PatientName: pn, SeriesDescription: desc };
        })();
      const bytes = readFileSync(m.file);
      const { dataset } = readPart10(bytes, { headerOnly: true });
      expect(groups(strings(dataset, 'PatientName')[0]!.split('='))).toEqual(groups(ref.PatientName));
      expect(strings(dataset, 'SeriesDescription')).toEqual([ref.SeriesDescription]);
      expect(identifyPart10(bytes).seriesDescription).toBe(ref.SeriesDescription);
    });
  }

  it('undecodable text: the reader keeps going, the value throws CharsetError, identity drops it', () => {
    const m = matrix.find((x) => x.name === 'utf8-4byte')!;
    const bytes = Buffer.from(readFileSync(m.file));
    // Make the first multi-byte character of the name and of the description invalid UTF-8.
    for (const [needle, skip] of [['Yoshino^Taro=', 0], ['Lendenwirbels', 1]] as const) {
      const at = bytes.indexOf(needle, 0, 'latin1');
      expect(at).toBeGreaterThan(0);
      bytes[at + needle.length + skip] = 0xff;
    }
    const { dataset } = readPart10(bytes);
    expect(() => strings(dataset, 'PatientName')).toThrow(CharsetError);
    expect(() => strings(dataset, 'PatientName')).toThrow(/PatientName.*ISO_IR 192.*not valid/);
    expect(strings(dataset, 'PatientID')).toEqual(['MATRIX-utf8-4byte']);
    const identity = identifyPart10(bytes);
    expect(identity.seriesDescription).toBeUndefined();
    expect(identity.sopInstanceUid).toBe(dataset.SOPInstanceUID);
  });
});
