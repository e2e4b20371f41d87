import iconv from 'iconv-lite';
import { PhantomOptionError } from './errors.js';
import type { CharsetName, PersonNameGroups } from './profiles/types.js';

/**
 * Text encoders of the vendor profiles: the bytes a scanner of that region writes for a
 * Specific Character Set (PS3.5 6.1 and Annex H/I/J). dcmjs writes every text value as UTF-8, so
 * values in another character set are encoded here and written as raw bytes (`mr-writer.ts`).
 *
 * The ISO 2022 forms follow the examples of PS3.5: `ISO 2022 IR 13\ISO 2022 IR 87` (H.3.2: the
 * first value designates JIS X 0201 romaji to G0 and katakana to G1, kanji are switched in with
 * ESC $ B and out with ESC ( J before each `^`, `=` and the end of the value),
 * `\ISO 2022 IR 87` (H.3.1: ASCII is G0, back with ESC ( B) and `\ISO 2022 IR 149` (I.2: each run
 * of Korean characters is preceded by ESC $ ) C, which designates KS X 1001 to G1; the bytes are
 * then EUC-KR, high bit set). The double-byte codes come from iconv-lite's EUC-JP and EUC-KR
 * tables (JIS X 0208 is EUC-JP with the high bits cleared).
 */
export interface TextCodec {
  /** Values of Specific Character Set (0008,0005); empty: the element is left out (default repertoire). */
  specificCharacterSet: string[];
  /** Bytes of a text value (no padding). Throws PhantomOptionError for a character the set cannot hold. */
  encode(text: string): Uint8Array;
}

const ESC = 0x1b;

function iconvStrict(text: string, encoding: string, charsetLabel: string): Buffer {
  const bytes = iconv.encode(text, encoding);
  if (iconv.decode(bytes, encoding) !== text) {
    throw new PhantomOptionError(`text of ${text.length} characters cannot be written in ${charsetLabel}`);
  }
  return bytes;
}

function isAscii(ch: string): boolean {
  return ch.charCodeAt(0) < 0x80;
}

/** Half-width katakana (JIS X 0201 G1 of ISO 2022 IR 13): U+FF61..U+FF9F → 0xA1..0xDF. */
function isHalfwidthKatakana(ch: string): boolean {
  const c = ch.charCodeAt(0);
  return c >= 0xff61 && c <= 0xff9f;
}

/** Splits a value into runs of characters of the same class. */
function runs(text: string, classOf: (ch: string) => string): Array<{ cls: string; text: string }> {
  const out: Array<{ cls: string; text: string }> = [];
  for (const ch of text) {
    const cls = classOf(ch);
    const last = out[out.length - 1];
    if (last && last.cls === cls) last.text += ch;
    else out.push({ cls, text: ch });
  }
  return out;
}

/** Japanese: JIS X 0208 kanji/kana with escapes; `firstIr13` selects IR 13 (romaji + katakana) as the first value. */
function japanese(firstIr13: boolean): TextCodec {
  const backToG0 = firstIr13 ? [ESC, 0x28, 0x4a] : [ESC, 0x28, 0x42]; // ESC ( J or ESC ( B
  const label = firstIr13 ? 'ISO 2022 IR 13\\ISO 2022 IR 87' : '\\ISO 2022 IR 87';
  return {
    specificCharacterSet: firstIr13 ? ['ISO 2022 IR 13', 'ISO 2022 IR 87'] : ['', 'ISO 2022 IR 87'],
    encode(text) {
      const out: number[] = [];
      const classOf = (ch: string): string => (isAscii(ch) ? 'g0' : firstIr13 && isHalfwidthKatakana(ch) ? 'kana' : 'kanji');
      for (const run of runs(text, classOf)) {
        if (run.cls === 'g0') {
          if (firstIr13 && /[\\~]/.test(run.text)) throw new PhantomOptionError(`"\\" and "~" differ in JIS X 0201 romaji (${label}); not written`);
          for (const ch of run.text) out.push(ch.charCodeAt(0));
        } else if (run.cls === 'kana') {
          for (const ch of run.text) out.push(ch.charCodeAt(0) - 0xff61 + 0xa1);
        } else {
          const euc = iconvStrict(run.text, 'eucjp', label);
          if (euc.length % 2 !== 0 || euc.some((b) => b < 0xa1)) throw new PhantomOptionError(`text is not all JIS X 0208 (${label})`);
          out.push(ESC, 0x24, 0x42); // ESC $ B
          for (const b of euc) out.push(b & 0x7f);
          out.push(...backToG0);
        }
      }
      return Uint8Array.from(out);
    },
  };
}

/** Korean: ASCII G0, KS X 1001 runs in G1 (ESC $ ) C before each run, EUC-KR bytes). */
function korean(): TextCodec {
  return {
    specificCharacterSet: ['', 'ISO 2022 IR 149'],
    encode(text) {
      const out: number[] = [];
      for (const run of runs(text, (ch) => (isAscii(ch) ? 'g0' : 'ks'))) {
        if (run.cls === 'g0') {
          for (const ch of run.text) out.push(ch.charCodeAt(0));
        } else {
          const euc = iconvStrict(run.text, 'euc-kr', '\\ISO 2022 IR 149');
          if (euc.length % 2 !== 0 || euc.some((b) => b < 0xa1)) throw new PhantomOptionError('text is not all KS X 1001 (\\ISO 2022 IR 149)');
          out.push(ESC, 0x24, 0x29, 0x43, ...euc); // ESC $ ) C
        }
      }
      return Uint8Array.from(out);
    },
  };
}

function single(term: string, encoding: string): TextCodec {
  return { specificCharacterSet: [term], encode: (text) => new Uint8Array(iconvStrict(text, encoding, term)) };
}

/** The codec of a profile's character set. */
export function textCodec(name: CharsetName): TextCodec {
  switch (name) {
    case 'default':
      return {
        specificCharacterSet: [],
        encode(text) {
          if (!/^[\x20-\x7e]*$/.test(text)) throw new PhantomOptionError('text outside the default repertoire (ISO-IR 6) needs a Specific Character Set');
          return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
        },
      };
    case 'latin1':
      return single('ISO_IR 100', 'latin1');
    case 'utf8':
      return { specificCharacterSet: ['ISO_IR 192'], encode: (text) => new TextEncoder().encode(text) };
    case 'gb18030':
      return single('GB18030', 'gb18030');
    case 'japanese':
      return japanese(true);
    case 'japanese-ir6':
      return japanese(false);
    case 'korean':
      return korean();
  }
}

/** A person name value: the groups joined by `=` (trailing empty groups dropped), each group encoded. */
export function personNameText(name: PersonNameGroups): string {
  const groups = [name.alphabetic, name.ideographic ?? '', name.phonetic ?? ''];
  while (groups.length > 1 && groups[groups.length - 1] === '') groups.pop();
  return groups.join('=');
}
