import { describe, expect, it } from 'vitest';
import { CharsetError, characterSetTerms, decodeText, formatPersonName, parsePersonName, splitTextValues } from './charset.js';

// Inputs are built from the platform's own encoders where one exists (TextEncoder for UTF-8);
// decoded results of real charsets are checked against pydicom in charset.int.test.ts.
const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const bytes = (...parts: (string | number[])[]): Uint8Array =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)));

describe('decodeText refuses what it cannot decode (CharsetError, never U+FFFD or ESC)', () => {
  const refused: [string, Uint8Array, string[], string, RegExp][] = [
    ['invalid UTF-8', bytes('Doe^', [0xc3, 0x28]), ['ISO_IR 192'], 'PN', /not valid/],
    ['truncated UTF-8', bytes('Doe^', [0xe5, 0xb0]), ['ISO_IR 192'], 'PN', /not valid/],
    ['invalid GB18030', bytes('Wang^', [0x81, 0x30, 0x20]), ['GB18030'], 'PN', /not valid/],
    ['non-ASCII with no character set declared', bytes('Buc^J', [0xe9], 'r'), [], 'PN', /default repertoire/],
    ['an unknown term', ascii('Doe^John'), ['ISO_IR 999'], 'PN', /unknown Specific Character Set term "ISO_IR 999"/],
    ['an escape under a set without code extensions', bytes([0x1b, 0x24, 0x42], ';3'), ['ISO_IR 100'], 'LO', /escape sequence/],
    ['an escape for an undeclared set', bytes('Hong=', [0x1b, 0x24, 0x29, 0x43, 0xc8, 0xab]), ['', 'ISO 2022 IR 87'], 'PN', /designates no declared/],
    ['a high byte with no G1 set ever designated', bytes('Kim^', [0xb1, 0xe6]), ['', 'ISO 2022 IR 149'], 'PN', /no G1 character set/],
    ['a high byte when only G0 sets are declared', bytes('Yamada', [0xe9]), ['ISO 2022 IR 6', 'ISO 2022 IR 87'], 'PN', /no G1 character set/],
  ];
  for (const [what, input, cs, vr, reason] of refused) {
    it(what, () => {
      let error: unknown;
      try {
        decodeText(input, cs, vr, 'PatientName');
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(CharsetError);
      const e = error as CharsetError;
      expect(e.keyword).toBe('PatientName');
      expect(e.message).toMatch(reason);
      expect(e.message).toMatch(/^cannot decode PatientName with Specific Character Set/);
      // The message never quotes the value.
      expect(e.message).not.toMatch(/Doe|Buc|Hong|Kim|Yamada|Wang/);
    });
  }

  it('keeps a genuine U+FFFD that the UTF-8 bytes really encode', () => {
    const input = new TextEncoder().encode('Doe^J\uFFFDn');
    expect(decodeText(input, ['ISO_IR 192'], 'PN')).toBe('Doe^J\uFFFDn');
  });

  it('decodes ISO_IR 203 (Latin-9, added to the library table) with the euro sign', () => {
    expect(decodeText(bytes('15', [0xa4]), ['ISO_IR 203'], 'LO')).toBe(new TextDecoder('iso-8859-15').decode(bytes('15', [0xa4])));
    expect(decodeText(bytes('a', [0x1b, 0x2d, 0x62, 0xa4]), ['ISO 2022 IR 6', 'ISO 2022 IR 203'], 'LO')).toBe(`a${new TextDecoder('iso-8859-15').decode(new Uint8Array([0xa4]))}`);
  });

  it('treats "ISO_IR 6" as the default repertoire', () => {
    expect(decodeText(ascii('CHEST PA'), ['ISO_IR 6'], 'LO')).toBe('CHEST PA');
    expect(() => decodeText(bytes([0xe9]), ['ISO_IR 6'], 'LO')).toThrow(CharsetError);
  });
});

describe('values and person names', () => {
  it('splits on backslash except for ST/LT/UT, and strips padding as the VR allows', () => {
    expect(splitTextValues(' A \\B ', 'LO')).toEqual(['A', 'B']);
    expect(splitTextValues('a\\b  ', 'LT')).toEqual(['a\\b']);
    expect(splitTextValues('Doe^John ', 'PN')).toEqual(['Doe^John']);
  });

  it('keeps all three component groups, including an empty middle one', () => {
    expect(parsePersonName('A^B=I^J=P^Q')).toEqual({ alphabetic: 'A^B', ideographic: 'I^J', phonetic: 'P^Q' });
    expect(formatPersonName(parsePersonName('A==P'))).toBe('A==P');
    expect(formatPersonName(parsePersonName('=I'))).toBe('=I');
    expect(formatPersonName({ alphabetic: 'A', ideographic: '', phonetic: '' })).toBe('A');
  });

  it('reads character set terms as declared', () => {
    expect(characterSetTerms('\\ISO 2022 IR 87 ')).toEqual(['', 'ISO 2022 IR 87']);
    expect(characterSetTerms(undefined)).toEqual([]);
    expect(characterSetTerms('ISO_IR 100 ')).toEqual(['ISO_IR 100']);
  });
});
