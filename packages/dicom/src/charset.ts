/**
 * Text decoding with the Specific Character Set (0008,0005), PS3.3 C.12.1.1.2 and PS3.5 ch. 6:
 * single- and multi-valued, ISO 2022 code extensions included. The code-extension state machine
 * and the term → decoder table are dicom-character-set's (decoding through the platform's ICU
 * TextDecoder); this module adds what a silent decoder lacks: an undecodable value is a
 * {@link CharsetError}, never a U+FFFD or a raw escape byte in the result.
 */
import { createRequire } from 'node:module';

interface CodeElement {
  codeElement: 'G0' | 'G1';
  escapeSequence: number[];
  encoding: string;
  bytesPerCodePoint: number;
}
interface CharacterSetDefinition {
  encoding?: string;
  extension?: boolean;
  multiByte?: boolean;
  elements?: CodeElement[];
}

const require = createRequire(import.meta.url);
// dicom-character-set ships no type declarations; these are the two exports we use.
const library = require('dicom-character-set') as {
  convertBytes(specificCharacterSet: string | undefined, bytes: Uint8Array, options?: { vr?: string }): string;
  characterSets: Record<string, CharacterSetDefinition>;
};
const TABLE = library.characterSets;

// ISO 8859-15 (Latin alphabet No. 9) joined the standard after the library's table was written.
const ASCII_G0 = TABLE['ISO 2022 IR 6']?.elements?.[0];
if (!TABLE['ISO_IR 203']) TABLE['ISO_IR 203'] = { encoding: 'iso-8859-15' };
if (!TABLE['ISO 2022 IR 203'] && ASCII_G0) {
  TABLE['ISO 2022 IR 203'] = {
    extension: true,
    elements: [ASCII_G0, { codeElement: 'G1', escapeSequence: [0x1b, 0x2d, 0x62], encoding: 'iso-8859-15', bytesPerCodePoint: 1 }],
  };
}

/** Value representations whose values are decoded with the Specific Character Set (PS3.5 6.1.2.3). */
export const CHARSET_TEXT_VRS: ReadonlySet<string> = new Set(['SH', 'LO', 'UC', 'ST', 'LT', 'UT', 'PN']);
/** Text VRs that hold a single value: a backslash in them is text, not a separator. */
const SINGLE_VALUE_VRS: ReadonlySet<string> = new Set(['ST', 'LT', 'UT']);

/**
 * A text value that cannot be decoded with its Specific Character Set. The message names the
 * attribute and the character set and why; it never quotes the value (it may be patient data).
 */
export class CharsetError extends Error {
  override readonly name = 'CharsetError';
  constructor(
    /** Attribute keyword (or tag) whose value failed. */
    readonly keyword: string,
    /** The Specific Character Set in force, as declared (terms joined by a backslash). */
    readonly characterSet: string,
    readonly reason: string,
  ) {
    super(`cannot decode ${keyword} with Specific Character Set "${characterSet}": ${reason}`);
  }
}

/** Splits a raw (0008,0005) value into its terms, trimmed; an absent value is `[]` (default repertoire). */
export function characterSetTerms(value: string | readonly string[] | undefined | null): string[] {
  if (value === undefined || value === null) return [];
  const terms = typeof value === 'string' ? value.split('\\') : [...value];
  const out = terms.map((t) => t.trim());
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

function label(terms: readonly string[]): string {
  return terms.join('\\');
}

const ESC = 0x1b;
/** First terms whose initial G0 is not ASCII: the pure-ASCII shortcut does not apply to them. */
const NON_ASCII_G0 = new Set(['ISO_IR 13', 'ISO 2022 IR 13', 'ISO 2022 IR 87', 'ISO 2022 IR 159']);
const STAND_ALONE = new Set(['ISO_IR 192', 'GB18030', 'GBK']);

function isPlainAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0x80 || b === ESC) return false;
  }
  return true;
}

/** Code-extension terms as the library applies them: with several values, `ISO_IR n` means `ISO 2022 IR n`. */
function definitionsOf(terms: readonly string[]): CharacterSetDefinition[] {
  const extended = terms.length > 1;
  return terms.map((t, i) => {
    const term = t === '' && i === 0 ? 'ISO 2022 IR 6' : extended ? t.replace('ISO_IR', 'ISO 2022 IR') : t;
    return TABLE[term] ?? {};
  });
}

function delimitersFor(vr: string): number[] {
  const d = [0x09, 0x0a, 0x0c, 0x0d];
  if (!SINGLE_VALUE_VRS.has(vr)) d.push(0x5c);
  if (vr === 'PN') d.push(0x3d, 0x5e);
  return d;
}

function matchesAt(bytes: Uint8Array, at: number, seq: readonly number[]): boolean {
  if (at + seq.length > bytes.length) return false;
  return seq.every((b, k) => bytes[at + k] === b);
}

/**
 * Follows the ISO 2022 state (PS3.5 6.1.2.5.3: initial G0/G1 from value 1, reset at delimiters)
 * and refuses what the library would decode silently with the wrong code element: an unknown
 * escape sequence, or a byte >= 0x80 while no G1 set is designated. One repair, as pydicom and
 * common Korean encoders do: a value that designated a G1 set and did not repeat the escape
 * after a delimiter keeps that set (the escape is re-inserted), since nothing else could be meant.
 */
function checkIso2022(bytes: Uint8Array, terms: readonly string[], vr: string, keyword: string): { bytes: Uint8Array; terms: string[] } {
  const defs = definitionsOf(terms);
  const allowed = defs.flatMap((d) => d.elements ?? []);
  // ESC ( B (back to ASCII) is accepted even when ISO 2022 IR 6 is not declared, as pydicom and
  // dcmtk do: writers commonly end a JIS run with it after an ISO 2022 IR 13 start.
  const withAscii = ASCII_G0 && !allowed.includes(ASCII_G0) && bytes.some((b, k) => b === ESC && matchesAt(bytes, k, ASCII_G0.escapeSequence));
  if (withAscii) allowed.push(ASCII_G0);
  const usedTerms = withAscii ? [...terms, 'ISO 2022 IR 6'] : [...terms];
  const initialG0 = defs[0]?.elements?.find((e) => e.codeElement === 'G0');
  const initialG1 = defs[0]?.elements?.find((e) => e.codeElement === 'G1');
  const delimiters = delimitersFor(vr);
  let g0 = initialG0;
  let g1 = initialG1;
  let lastG1 = initialG1;
  const repairs: { at: number; seq: number[] }[] = [];
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === ESC) {
      const el = allowed.find((e) => matchesAt(bytes, i, e.escapeSequence));
      if (!el) throw new CharsetError(keyword, label(terms), `escape sequence at byte ${i} designates no declared character set`);
      if (el.codeElement === 'G0') g0 = el;
      else g1 = lastG1 = el;
      i += el.escapeSequence.length;
    } else if (b >= 0x80) {
      if (!g1) {
        if (!lastG1) throw new CharsetError(keyword, label(terms), `byte >= 0x80 at byte ${i} with no G1 character set designated`);
        repairs.push({ at: i, seq: lastG1.escapeSequence });
        g1 = lastG1;
      }
      i += g1.bytesPerCodePoint;
    } else if (g0 && g0.bytesPerCodePoint === 2) {
      i += 2;
    } else {
      if (delimiters.includes(b)) {
        g0 = initialG0;
        g1 = initialG1;
      }
      i += 1;
    }
  }
  if (repairs.length === 0) return { bytes, terms: usedTerms };
  const out = new Uint8Array(bytes.length + repairs.reduce((n, r) => n + r.seq.length, 0));
  let from = 0;
  let to = 0;
  for (const r of repairs) {
    out.set(bytes.subarray(from, r.at), to);
    to += r.at - from;
    out.set(r.seq, to);
    to += r.seq.length;
    from = r.at;
  }
  out.set(bytes.subarray(from), to);
  return { bytes: out, terms: usedTerms };
}

const asciiDecoder = new TextDecoder('latin1');

/**
 * Decodes one element's whole value (all its values, with their separators) with the Specific
 * Character Set in force. Throws {@link CharsetError} when the bytes are not valid in it.
 */
export function decodeText(bytes: Uint8Array, characterSet: readonly string[], vr: string, keyword = 'value'): string {
  if (bytes.length === 0) return '';
  // "ISO_IR 6" is not a defined term, but writers use it for the default repertoire (as pydicom reads it).
  const terms = characterSet.map((t) => t.toUpperCase()).map((t, _, all) => (t === 'ISO_IR 6' && all.length === 1 ? '' : t));
  const first = terms[0] ?? '';
  // Pure ASCII is the same text in every repertoire whose initial G0 is ASCII: no decoder needed.
  if (!NON_ASCII_G0.has(first) && isPlainAscii(bytes)) {
    for (const t of terms) if (t !== '' && !TABLE[t]) throw new CharsetError(keyword, label(characterSet), `unknown Specific Character Set term "${t}"`);
    return asciiDecoder.decode(bytes);
  }
  for (const [i, t] of terms.entries()) {
    if (t === '' && i === 0) continue;
    if (!TABLE[t]) throw new CharsetError(keyword, label(characterSet), `unknown Specific Character Set term "${t}"`);
  }
  const iso2022 = terms.length > 1 || first.startsWith('ISO 2022');
  let input = bytes;
  let decodeTerms = terms;
  if (iso2022) {
    ({ bytes: input, terms: decodeTerms } = checkIso2022(bytes, terms, vr, keyword));
  } else if (first === '') {
    throw new CharsetError(keyword, 'default repertoire', 'bytes outside ASCII and no Specific Character Set declared');
  } else if (bytes.includes(ESC)) {
    throw new CharsetError(keyword, label(characterSet), 'escape sequence in a character set without code extensions');
  }
  let text: string;
  try {
    text = library.convertBytes(label(decodeTerms), input, { vr });
  } catch (err) {
    throw new CharsetError(keyword, label(characterSet), (err as Error).message);
  }
  if (text.includes('\uFFFD')) {
    // A genuine U+FFFD can only be encoded by the Unicode charsets; prove it with a strict decoder.
    const encoding = terms.length === 1 && STAND_ALONE.has(first) ? TABLE[first]?.encoding : undefined;
    try {
      if (!encoding) throw new Error('not representable');
      new TextDecoder(encoding, { fatal: true }).decode(input);
    } catch {
      throw new CharsetError(keyword, label(characterSet), 'bytes that are not valid in this character set');
    }
  }
  if (text.includes('\u001b')) throw new CharsetError(keyword, label(characterSet), 'an escape sequence remained undecoded');
  return text;
}

/** Splits a decoded value into its values and strips the padding the VR allows (PS3.5 6.2). */
export function splitTextValues(text: string, vr: string): string[] {
  if (SINGLE_VALUE_VRS.has(vr)) return [text.replace(/[\0 ]+$/, '')];
  return text.split('\\').map((v) => (vr === 'PN' ? v.replace(/[\0 ]+$/, '') : v.replace(/^ +/, '').replace(/[\0 ]+$/, '')));
}

/** A Person Name value's three component groups (PS3.5 6.2.1), each already decoded. */
export interface PersonName {
  alphabetic: string;
  ideographic?: string;
  phonetic?: string;
}

/** Parses one decoded PN value ("Alphabetic=Ideographic=Phonetic"); empty groups are left out. */
export function parsePersonName(value: string): PersonName {
  const [alphabetic = '', ideographic = '', ...rest] = value.split('=');
  const phonetic = rest.join('=');
  return { alphabetic, ...(ideographic ? { ideographic } : {}), ...(phonetic ? { phonetic } : {}) };
}

/** The DICOM string form of a person name: groups joined by "=", trailing empty groups dropped. */
export function formatPersonName(name: PersonName): string {
  return [name.alphabetic, name.ideographic ?? '', name.phonetic ?? ''].join('=').replace(/=+$/, '');
}
