/**
 * Value formatting for the report: DICOM DA/TM/DT strings in UTC and the probability as a
 * Decimal String. The SR declares Timezone Offset From UTC "+0000", so viewers convert.
 */
import { SrInputError } from './errors.js';

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** DA "YYYYMMDD" in UTC. */
export function dicomDate(d: Date): string {
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}`;
}

/** TM "HHMMSS.ffffff" in UTC (millisecond precision). */
export function dicomTime(d: Date): string {
  return `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds() * 1000, 6)}`;
}

/** DT "YYYYMMDDHHMMSS.ffffff+0000". */
export function dicomDateTime(d: Date): string {
  return `${dicomDate(d)}${dicomTime(d)}+0000`;
}

/** Offset written as Timezone Offset From UTC, matching the UTC dates above. */
export const UTC_OFFSET = '+0000';

/**
 * A probability 0..1 as percent with exactly one decimal ("91.0", "100.0"): always a valid
 * Decimal String of at most 5 characters, far under the 16 that dsrdump enforces (a raw float
 * repr such as "12.345000000000001" breaks it). Rounds half up at the first decimal.
 */
export function formatPercent(probability: number, field = 'probability'): string {
  assertProbability(probability, field);
  const tenths = Math.round(probability * 1000);
  return (tenths / 10).toFixed(1);
}

/** Throws {@link SrInputError} unless `p` is a finite number in [0, 1]. */
export function assertProbability(p: number, field: string): void {
  if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1) {
    throw new SrInputError(field, `must be a number in [0, 1], got ${String(p)}`);
  }
}

/** True when the string has only 7-bit ASCII characters (the default DICOM repertoire). */
export function isAscii(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s);
}
