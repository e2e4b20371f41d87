/**
 * HL7 v2 text helpers: escaping (v2.5.1 ch. 2.7: \F\ \S\ \T\ \R\ \E\), DICOM → HL7 value
 * mappings (person names, sex, dates, character sets) and the stable message control id.
 */
import { createHash } from 'node:crypto';
import type { PersonName } from '@ldh/dicom';

/** Escapes one component value for the default delimiters |^~\&. */
export function hl7Escape(value: string): string {
  return value
    .replace(/\\/g, '\\E\\')
    .replace(/\|/g, '\\F\\')
    .replace(/\^/g, '\\S\\')
    .replace(/~/g, '\\R\\')
    .replace(/&/g, '\\T\\')
    .replace(/[\r\n]+/g, ' ');
}

/** Components joined with ^ after escaping each; trailing empty components dropped. */
export function components(...values: Array<string | number | undefined | null>): string {
  return values
    .map((v) => (v === undefined || v === null ? '' : hl7Escape(String(v))))
    .join('^')
    .replace(/\^+$/, '');
}

/**
 * A DICOM person name as XPN repetitions, one per component group (HL7 table 0465 name
 * representation code: A alphabetic, I ideographic, P phonetic). DICOM order
 * family^given^middle^prefix^suffix becomes XPN family^given^middle^suffix^prefix.
 */
export function personNameXpn(name: PersonName | undefined): string {
  if (!name) return '';
  const groups: Array<[string | undefined, string]> = [
    [name.alphabetic, 'A'],
    [name.ideographic, 'I'],
    [name.phonetic, 'P'],
  ];
  return groups
    .filter((g): g is [string, string] => Boolean(g[0]))
    .map(([v, rep]) => {
      const [family = '', given = '', middle = '', prefix = '', suffix = ''] = v.split('^');
      return components(family, given, middle, suffix, prefix, '', 'L', rep);
    })
    .join('~');
}

/** DICOM Patient's Sex → HL7 table 0001 (M, F, O, U). */
export function hl7Sex(sex: string | undefined): string {
  const s = (sex ?? '').trim().toUpperCase();
  return s === 'M' || s === 'F' || s === 'O' ? s : s ? 'U' : '';
}

/** DICOM DA + optional TM → HL7 DTM (YYYYMMDD[HHMM[SS]]); invalid input → ''. */
export function hl7DateTime(date: string | undefined, time?: string): string {
  const d = (date ?? '').trim();
  if (!/^\d{8}$/.test(d)) return '';
  const t = (time ?? '').trim().replace(/\..*$/, '');
  return /^\d{2,6}$/.test(t) ? `${d}${t}` : d;
}

/** A JS date as HL7 DTM in UTC with the offset (YYYYMMDDHHMMSS+0000). */
export function hl7Timestamp(at: Date): string {
  return `${at.toISOString().replace(/[-:T]/g, '').slice(0, 14)}+0000`;
}

/**
 * MSH-10: a control id derived from the delivery row, so a retry or replay of the same delivery
 * sends the same id (a receiver may dedupe on it). ST, at most 20 characters.
 */
export function messageControlId(deliveryId: string): string {
  return `LDH${createHash('sha256').update(`ldh-hl7:${deliveryId}`).digest('hex').slice(0, 17).toUpperCase()}`;
}

/** DICOM Defined Terms of (0008,0005) → HL7 table 0211 and the Node/iconv encoding used on the wire. */
const CHARSETS: Record<string, { hl7: string; encoding: string }> = {
  '': { hl7: 'ASCII', encoding: 'ascii' },
  ISO_IR_6: { hl7: 'ASCII', encoding: 'ascii' },
  ISO_IR_100: { hl7: '8859/1', encoding: 'latin1' },
  ISO_IR_101: { hl7: '8859/2', encoding: 'iso-8859-2' },
  ISO_IR_109: { hl7: '8859/3', encoding: 'iso-8859-3' },
  ISO_IR_110: { hl7: '8859/4', encoding: 'iso-8859-4' },
  ISO_IR_144: { hl7: '8859/5', encoding: 'iso-8859-5' },
  ISO_IR_127: { hl7: '8859/6', encoding: 'iso-8859-6' },
  ISO_IR_126: { hl7: '8859/7', encoding: 'iso-8859-7' },
  ISO_IR_138: { hl7: '8859/8', encoding: 'iso-8859-8' },
  ISO_IR_148: { hl7: '8859/9', encoding: 'iso-8859-9' },
  ISO_IR_192: { hl7: 'UNICODE UTF-8', encoding: 'utf-8' },
  GB18030: { hl7: 'GB 18030-2000', encoding: 'gb18030' },
};
export const UTF8 = { hl7: 'UNICODE UTF-8', encoding: 'utf-8' } as const;

/**
 * The character set a message declares (MSH-18) and is encoded in: the source's single character
 * set when HL7 has a name for it; UTF-8 for code extensions (ISO 2022 ...), multi-valued or
 * unknown sets, whose text was decoded to Unicode by the charset reader anyway.
 */
export function messageCharset(specificCharacterSet: readonly string[]): { hl7: string; encoding: string } {
  const values = specificCharacterSet.map((v) => v.trim());
  if (values.length > 1) return UTF8;
  const key = (values[0] ?? '').replace(/[ -]/g, '_');
  return CHARSETS[key] ?? UTF8;
}
