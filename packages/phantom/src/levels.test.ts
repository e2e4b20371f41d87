import { describe, expect, it } from 'vitest';
import { PhantomSpecError } from './errors.js';
import { formatLevelCell, parseLevelsSpec, studyLabel } from './levels.js';

describe('parseLevelsSpec', () => {
  it('parses levels and grades, tolerating case and spaces', () => {
    expect(parseLevelsSpec('L4-L5:protrusion, l5-s1:Bulge')).toEqual({ 'L4-L5': 'protrusion', 'L5-S1': 'bulge' });
    expect(parseLevelsSpec('')).toEqual({});
  });

  it.each([
    ['L6-S1:protrusion', 'L6-S1:protrusion', /unknown disc level/],
    ['L4-L5:herniated', 'L4-L5:herniated', /unknown grade/],
    ['L4-L5', 'L4-L5', /not LEVEL:GRADE/],
    ['L4-L5:bulge,L4-L5:none', 'L4-L5:none', /given twice/],
    ['L3-L4:none,,L5-S1:bulge', '', /not LEVEL:GRADE/],
  ])('rejects %s naming the bad token', (spec, token, message) => {
    try {
      parseLevelsSpec(spec);
      expect.unreachable('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(PhantomSpecError);
      expect((err as PhantomSpecError).token).toBe(token);
      expect((err as Error).message).toMatch(message);
      if (token !== '') expect((err as Error).message).toContain(token);
    }
  });
});

describe('label rule', () => {
  it('is ldh only for a protrusion or an extrusion; a bulge is not a herniation', () => {
    expect(studyLabel([{ grade: 'none' }, { grade: 'bulge' }])).toBe('healthy');
    expect(studyLabel([{ grade: 'bulge' }, { grade: 'protrusion' }])).toBe('ldh');
    expect(studyLabel([{ grade: 'extrusion' }])).toBe('ldh');
    expect(studyLabel([])).toBe('healthy');
  });

  it('formats CSV cells as grade:position:sizeMm', () => {
    expect(formatLevelCell({ level: 'L4-L5', grade: 'protrusion', position: 'paracentral-left', sizeMm: 4.5, degeneration: 0.4 })).toBe(
      'protrusion:paracentral-left:4.5',
    );
    expect(formatLevelCell({ level: 'L1-L2', grade: 'none', position: 'central', sizeMm: 0, degeneration: 0.1 })).toBe('none::0');
  });
});
