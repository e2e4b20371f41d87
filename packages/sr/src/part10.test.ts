import { describe, expect, it } from 'vitest';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLEMENTATION_CLASS_UID, readPart10, writePart10 } from './part10.js';
import { SrParseError } from './errors.js';

const ascii = (bytes: Uint8Array, from: number, to: number): string => Buffer.from(bytes.subarray(from, to)).toString('latin1');

describe('writePart10', () => {
  const bytes = writePart10({
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.33',
    SOPInstanceUID: '1.2.3.4.5',
    SpecificCharacterSet: 'ISO_IR 192',
    PatientName: 'Müller^Jörg',
    ContentSequence: [{ ValueType: 'TEXT', RelationshipType: 'CONTAINS', TextValue: 'Jörg Ω' }],
  });

  it('has the preamble, DICM magic and an explicit-VR group length first', () => {
    expect(bytes.subarray(0, 128).every((b) => b === 0)).toBe(true);
    expect(ascii(bytes, 128, 132)).toBe('DICM');
    expect(ascii(bytes, 132, 136)).toBe('\x02\x00\x00\x00'); // (0002,0000)
    expect(ascii(bytes, 136, 138)).toBe('UL');
  });

  it('declares explicit VR little endian and mirrors the SOP UIDs in the meta header', () => {
    const text = ascii(bytes, 0, 400);
    expect(text).toContain(EXPLICIT_VR_LITTLE_ENDIAN);
    expect(text).toContain('1.2.840.10008.5.1.4.1.1.88.33');
    expect(text).toContain('1.2.3.4.5');
    expect(text).toContain(IMPLEMENTATION_CLASS_UID);
  });

  it('reads back top-level and nested UTF-8 text intact (no dcmjs #508 mojibake)', () => {
    const ds = readPart10(bytes);
    expect(ds.PatientName).toEqual([{ Alphabetic: 'Müller^Jörg' }]);
    expect((ds.ContentSequence as { TextValue: string }[])[0]?.TextValue).toBe('Jörg Ω');
  });

  it('rejects bytes that are not Part-10', () => {
    expect(() => readPart10(new Uint8Array(200))).toThrow(SrParseError);
  });
});
