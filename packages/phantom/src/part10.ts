import dcmjs from 'dcmjs';
import type { DicomDataset } from 'dcmjs';
import { PhantomError } from './errors.js';

/** Implementation identity written in the file meta header (2.25 root, like the other UIDs). */
export const IMPLEMENTATION_CLASS_UID = '2.25.275741864483510678566144889372061815320';
export const IMPLEMENTATION_VERSION_NAME = 'LDH_PHANTOM_01';

/** A text element whose value is written as these exact bytes (already in the dataset's character set). */
export interface RawText {
  tag: string;
  vr: 'PN' | 'LO' | 'SH' | 'LT' | 'ST';
  bytes: Uint8Array;
}

/**
 * Writes a dataset (dcmjs tag-keyed form) as a Part-10 file. dcmjs encodes every text value as
 * UTF-8; a value in another character set (ISO 2022, GB18030, Latin-1) is written as an ASCII
 * placeholder of the same length and then overwritten with its bytes, so the element lengths
 * dcmjs computed stay right. A placeholder that is not found exactly once is an error.
 */
export function writeFile10(dict: DicomDataset, sopClassUid: string, sopInstanceUid: string, transferSyntaxUid: string, rawText: readonly RawText[]): Uint8Array {
  const patches: Array<{ marker: Uint8Array; bytes: Uint8Array }> = [];
  rawText.forEach((t, i) => {
    // A value shorter than the marker is padded with trailing spaces (text padding, PS3.5 6.2).
    const head = `~${i}~LDHRAW`;
    const n = Math.max(t.bytes.length, head.length);
    const marker = head + 'x'.repeat(n - head.length);
    const bytes = new Uint8Array(n).fill(0x20);
    bytes.set(t.bytes);
    patches.push({ marker: Uint8Array.from(marker, (c) => c.charCodeAt(0)), bytes });
    dict[t.tag] = { vr: t.vr, Value: [marker] };
  });
  const meta: DicomDataset = {
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    '00020002': { vr: 'UI', Value: [sopClassUid] },
    '00020003': { vr: 'UI', Value: [sopInstanceUid] },
    '00020010': { vr: 'UI', Value: [transferSyntaxUid] },
    '00020012': { vr: 'UI', Value: [IMPLEMENTATION_CLASS_UID] },
    '00020013': { vr: 'SH', Value: [IMPLEMENTATION_VERSION_NAME] },
  };
  const file = new dcmjs.data.DicomDict(meta);
  file.dict = dict;
  const out = new Uint8Array(file.write({ fragmentMultiframe: false }));
  for (const p of patches) {
    const at = indexOf(out, p.marker, 0);
    if (at < 0 || indexOf(out, p.marker, at + 1) >= 0) throw new PhantomError('raw text placeholder not found exactly once in the written file');
    out.set(p.bytes, at);
  }
  return out;
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  outer: for (let i = hay.indexOf(first ?? 0, from); i >= 0 && i + needle.length <= hay.length; i = hay.indexOf(first ?? 0, i + 1)) {
    for (let k = 1; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}
