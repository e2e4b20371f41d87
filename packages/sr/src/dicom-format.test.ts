import { describe, expect, it } from 'vitest';
import { dicomDate, dicomDateTime, dicomTime, formatPercent, isAscii } from './dicom-format.js';
import { SrInputError } from './errors.js';

describe('formatPercent', () => {
  it.each([
    [0, '0.0'],
    [1, '100.0'],
    [0.12345, '12.3'],
    [0.99999, '100.0'],
    [0.91, '91.0'],
    [0.5, '50.0'],
    [0.0005, '0.1'],
    [0.00049, '0.0'],
    [0.1235, '12.4'],
    [Number.MIN_VALUE, '0.0'],
  ])('%s -> %s', (p, expected) => {
    expect(formatPercent(p)).toBe(expected);
  });

  it('always yields a Decimal String of at most 16 characters with one decimal', () => {
    for (let i = 0; i <= 10_000; i++) {
      const s = formatPercent(i / 10_000);
      expect(s).toMatch(/^\d{1,3}\.\d$/);
      expect(s.length).toBeLessThanOrEqual(16);
      expect(Math.abs(Number(s) - i / 100)).toBeLessThanOrEqual(0.05 + 1e-9);
    }
  });

  it.each([NaN, -0.0001, 1.0001, Infinity, -Infinity])('rejects %s', (p) => {
    expect(() => formatPercent(p, 'studyProbability')).toThrow(SrInputError);
    expect(() => formatPercent(p, 'studyProbability')).toThrow(/^studyProbability: /);
  });
});

describe('DICOM date/time in UTC', () => {
  const d = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 67));
  it('formats DA, TM and DT', () => {
    expect(dicomDate(d)).toBe('20260102');
    expect(dicomTime(d)).toBe('030405.067000');
    expect(dicomDateTime(d)).toBe('20260102030405.067000+0000');
  });
});

describe('isAscii', () => {
  it('tells 7-bit text from the rest', () => {
    expect(isAscii('Doe^John')).toBe(true);
    expect(isAscii('Müller^Jörg')).toBe(false);
  });
});
