import { describe, expect, it } from 'vitest';
import { planeFromOrientation, readTerms, routeStudy, tokenize, weightingOf, weightingFromParameters, type RouteDecision, type SeriesFacts } from '@ldh/dicom';
import { AX, axial, COR, SAG, sagittal, T1_SE, T2_TSE, tiltedAxial } from './routing/testing.js';

/** The verdict of the series with this description. */
function verdict(d: RouteDecision, desc: string | null, seriesNumber?: number) {
  const v = d.series.find((s) => s.description === desc && (seriesNumber === undefined || s.seriesNumber === seriesNumber));
  if (!v) throw new Error(`no series "${desc}"`);
  return v;
}

function roleOf(d: RouteDecision, s: SeriesFacts): string | undefined {
  return (Object.entries(d.roles) as Array<[string, string]>).find(([, uid]) => uid === s.seriesInstanceUid)?.[0];
}

describe('tokens', () => {
  it('splits on non-alphanumerics and underscores, case-folded, whole words only', () => {
    expect(tokenize('t2_tse_tra_mblock')).toEqual(['T2', 'TSE', 'TRA', 'MBLOCK']);
    expect(tokenize('Ax T2 FRFSE')).toEqual(['AX', 'T2', 'FRFSE']);
    expect(tokenize('T1+C SAG')).toEqual(['T1', '+C', 'SAG']);
    expect(tokenize('Ｔ２強調　矢状断')).toEqual(['T2', '強調', '矢状断']);
    expect(readTerms('T2 AX BLOCK').hits.localizer).toBeUndefined();
    expect(readTerms('T2 AX BLOCK').hits.block).toEqual(['BLOCK']);
    expect(readTerms('t2_tse_tra_mblock').hits.localizer).toBeUndefined();
    for (const loc of ['3-pl loc', 'AAHead_Scout', 'Survey', 'SmartSurvey', 'Smart Survey', 'locator', 'Localizer', 'LOC']) expect(readTerms(loc).hits.localizer, loc).toBeDefined();
    expect(readTerms('L-SPINE ROUTINE').hits.lumbar).toEqual(['LSPINE']);
    expect(readTerms('腰椎 MRI').hits.lumbar).toEqual(['腰椎']);
    expect(readTerms('T2強調 矢状断').hits.sagittal).toBeDefined();
  });
});

describe('planes and weighting', () => {
  it('finds planes from orientation', () => {
    expect(planeFromOrientation(SAG)).toBe('sagittal');
    expect(planeFromOrientation(AX)).toBe('axial');
    expect(planeFromOrientation(COR)).toBe('coronal');
    expect(planeFromOrientation([0.7, 0.7, 0, 0, 0, -1])).toBe('oblique');
    expect(planeFromOrientation(undefined)).toBe('oblique');
    expect(planeFromOrientation(tiltedAxial(30))).toBe('axial');
  });
  it('reads weighting from every vendor naming style', () => {
    const t1 = ['T1_TSE_SAG', 't1_tse_sag', 'Sag T1 FLAIR', 'sT1W_TSE', 'T1W_TSE', 'T1WI SAG', 'T1W SE SAG', 'T1_FSE_SAG', 'SAG T1', 'T1SAG'];
    const t2 = ['sag t2 tse', 'T2W_TSE_SAG', 'Sag T2 FSE', 'Ax T2 FRFSE', 'T2WI', 'T2W FSE SAG', 't2_fse_sag', 'T2 AX BLOCK', 't2_tse_tra_mblock', 'T2_TSE_TRA'];
    const other = ['T2 STIR SAG', 't2_tirm_sag', 'Sag STIR', 'T2 FLAIR', 'T2* GRE', 'DWI', 'PD SAG', 'MYELO', '3D Myelo'];
    for (const d of t1) expect(weightingOf({ seriesDescription: d }), d).toBe('t1');
    for (const d of t2) expect(weightingOf({ seriesDescription: d }), d).toBe('t2');
    for (const d of other) expect(weightingOf({ seriesDescription: d }), d).toBe('other');
  });
  it('reads weighting from TR/TE/TI when the description says nothing', () => {
    expect(weightingOf({ seriesDescription: 'SAG', repetitionTime: 550, echoTime: 10 })).toBe('t1');
    expect(weightingOf({ seriesDescription: 'SAG', repetitionTime: 3500, echoTime: 100 })).toBe('t2');
    // GE T1 FLAIR: TR 2200 would look like T2, but a long TI with a short TE is T1.
    expect(weightingOf({ seriesDescription: 'Sag FLAIR', repetitionTime: 2200, echoTime: 9, inversionTime: 860, scanningSequence: ['SE', 'IR'] })).toBe('t1');
    // STIR: short TI is fat suppression, whatever the description says.
    expect(weightingOf({ seriesDescription: 'T2 SAG', repetitionTime: 4000, echoTime: 60, inversionTime: 160, scanningSequence: ['IR'] })).toBe('other');
    expect(weightingOf({ seriesDescription: null, repetitionTime: 4000, echoTime: 60, scanningSequence: ['EP'] })).toBe('other');
  });
  it('parametrises the TR/TE limits by field strength (0.3 T vs 3 T)', () => {
    // Low-field T1 spin echo runs a longer TE; low-field T2 needs less TR.
    const lowT1 = { repetitionTime: 500, echoTime: 32 };
    const lowT2 = { repetitionTime: 1800, echoTime: 100 };
    expect(weightingFromParameters({ ...lowT1, magneticFieldStrength: 0.3 })?.weighting).toBe('t1');
    expect(weightingFromParameters({ ...lowT1, magneticFieldStrength: 3 })?.weighting).toBe('other');
    expect(weightingFromParameters({ ...lowT2, magneticFieldStrength: 0.3 })?.weighting).toBe('t2');
    expect(weightingFromParameters({ ...lowT2, magneticFieldStrength: 3 })?.weighting).toBe('other');
    // 3 T T1 TSE at TR 1000 is T1 there, intermediate at 0.3 T.
    expect(weightingFromParameters({ repetitionTime: 1000, echoTime: 10, magneticFieldStrength: 3 })?.weighting).toBe('t1');
    expect(weightingFromParameters({ repetitionTime: 1000, echoTime: 10, magneticFieldStrength: 0.3 })?.weighting).toBe('other');
  });
});

describe('vendor naming', () => {
  const cases: Array<{ vendor: string; study: () => { series: SeriesFacts[]; expect: Record<string, SeriesFacts> } }> = [
    {
      vendor: 'Siemens',
      study: () => {
        const scout = { ...sagittal('AAHead_Scout', { orientations: [SAG, AX, COR, SAG, AX, COR, SAG, AX, COR], imageType: ['ORIGINAL', 'PRIMARY', 'M', 'NORM', 'DIS2D'] }, 9) };
        const t2 = sagittal('t2_tse_sag_384', { ...T2_TSE, magneticFieldStrength: 3 });
        const t1 = sagittal('t1_tse_sag_320', { ...T1_SE, repetitionTime: 700, magneticFieldStrength: 3 });
        const tirm = sagittal('t2_tirm_sag', { repetitionTime: 4000, echoTime: 60, inversionTime: 220, scanningSequence: ['IR'], magneticFieldStrength: 3 });
        const ax = axial('t2_tse_tra_mblock', { ...T2_TSE, magneticFieldStrength: 3 });
        return { series: [scout, t2, t1, tirm, ax], expect: { t1_sag: t1, t2_sag: t2, t2_ax: ax } };
      },
    },
    {
      vendor: 'GE',
      study: () => {
        const loc = sagittal('3-pl loc', { orientations: [SAG, AX, COR, SAG, AX, COR] }, 6);
        const t2 = sagittal('Sag T2 FSE', T2_TSE);
        const t1 = sagittal('Sag T1 FLAIR', { repetitionTime: 2200, echoTime: 9, inversionTime: 860, scanningSequence: ['SE', 'IR'], magneticFieldStrength: 1.5 });
        const stir = sagittal('Sag STIR', { repetitionTime: 3800, echoTime: 50, inversionTime: 150, scanningSequence: ['IR'] });
        const ax = axial('Ax T2 FRFSE', T2_TSE);
        return { series: [loc, t2, t1, stir, ax], expect: { t1_sag: t1, t2_sag: t2, t2_ax: ax } };
      },
    },
    {
      vendor: 'Philips',
      study: () => {
        const survey = sagittal('SmartSurvey', { orientations: [SAG, AX, COR] }, 3);
        const ref = axial('SENSE RefScan', {}, [0], 6);
        const t2 = sagittal('T2W_TSE_SAG', T2_TSE);
        // No plane in the name: the orientation says sagittal.
        const t1 = sagittal('sT1W_TSE', T1_SE);
        const ax = axial('T2W_TSE_TRA', T2_TSE);
        return { series: [survey, ref, t2, t1, ax], expect: { t1_sag: t1, t2_sag: t2, t2_ax: ax } };
      },
    },
    {
      vendor: 'Canon/Toshiba',
      study: () => {
        const loc = sagittal('locator', { orientations: [SAG, COR, AX] }, 3);
        const t1 = sagittal('T1WI SAG', { ...T1_SE, bodyPartExamined: 'L-SPINE' });
        const t2 = sagittal('T2WI SAG', { ...T2_TSE, bodyPartExamined: 'L-SPINE' });
        const ax = axial('T2WI AX', { ...T2_TSE, bodyPartExamined: 'L-SPINE' });
        return { series: [loc, t1, t2, ax], expect: { t1_sag: t1, t2_sag: t2, t2_ax: ax } };
      },
    },
    {
      vendor: 'Hitachi/Fujifilm 0.3 T',
      study: () => {
        const low = { magneticFieldStrength: 0.3, scanningSequence: ['SE'] };
        const scout = sagittal('SCOUT', { orientations: [SAG, AX, COR] }, 3);
        const t2 = sagittal('T2W FSE SAG', { ...low, repetitionTime: 3000, echoTime: 110 });
        const t1 = sagittal('T1W SE SAG', { ...low, repetitionTime: 450, echoTime: 26 });
        const ax = axial('T2W FSE AX', { ...low, repetitionTime: 3000, echoTime: 110 });
        return { series: [scout, t2, t1, ax], expect: { t1_sag: t1, t2_sag: t2, t2_ax: ax } };
      },
    },
    {
      vendor: 'Samsung/United Imaging',
      study: () => {
        const study = { bodyPartExamined: null, studyDescription: 'MR L-SPINE W/O' };
        const t2 = sagittal('t2_fse_sag', { ...T2_TSE, ...study });
        const t1 = sagittal('T1_FSE_SAG', { ...T1_SE, ...study });
        const ax = axial('t2_fse_tra', { ...T2_TSE, ...study });
        return { series: [t2, t1, ax], expect: { t1_sag: t1, t2_sag: t2, t2_ax: ax } };
      },
    },
  ];
  for (const c of cases) {
    it(`routes a ${c.vendor} lumbar study`, () => {
      const { series, expect: want } = c.study();
      const d = routeStudy(series);
      expect(d.kind, d.kind === 'skip' ? d.reason : '').toBe('route');
      expect(d.roles).toEqual({ t1_sag: want.t1_sag!.seriesInstanceUid, t2_sag: want.t2_sag!.seriesInstanceUid, t2_ax: want.t2_ax!.seriesInstanceUid });
      // Every series is explained; distractors are rejected with a reason.
      for (const v of d.series) {
        expect(v.reasons.length, v.description ?? '').toBeGreaterThan(0);
        if (!v.accepted) expect(v.reasons.some((r) => r.startsWith('rejected: ')), `${v.description}: ${v.reasons.join(' | ')}`).toBe(true);
      }
    });
  }
});

describe('pitfalls', () => {
  const t1 = () => sagittal('T1_TSE_SAG', T1_SE);
  const t2 = () => sagittal('T2_TSE_SAG', T2_TSE);

  it('"T2 AX BLOCK" in angled blocks is one axial T2 stack, not a localizer', () => {
    const ax = axial('T2 AX BLOCK', T2_TSE, [0, 15, -25, 30]);
    const d = routeStudy([t1(), t2(), ax]);
    expect(roleOf(d, ax)).toBe('t2_ax');
    const v = verdict(d, 'T2 AX BLOCK');
    expect(v.plane).toBe('axial');
    expect(v.reasons.join(' ')).toContain('4 separately angled blocks');
    expect(v.reasons.join(' ')).toMatch(/covers \d+ mm along the patient axis/);
  });

  it('an L5-S1 block angled 45° (as far towards coronal as axial) stays in the axial stack', () => {
    // Seen in the chaos run: blocks at 14°, 22° and 45° were called "several planes" and the study skipped.
    const ax = axial('T2_TSE_TRA', T2_TSE, [14, 22, 45]);
    const d = routeStudy([t1(), t2(), ax]);
    expect(roleOf(d, ax)).toBe('t2_ax');
    expect(verdict(d, 'T2_TSE_TRA').plane).toBe('axial');
  });

  it('a 2-plane localizer (one sagittal and one axial block) is still several planes', () => {
    const loc = { ...axial(null, T2_TSE, [0], 5), orientations: [SAG, SAG, SAG, AX, AX, AX] };
    const d = routeStudy([t1(), t2(), axial('T2_TSE_TRA', T2_TSE), loc]);
    expect(verdict(d, null).plane).toBe('mixed');
    expect(verdict(d, null).accepted).toBe(false);
  });

  it('a 3-image Secondary Capture "3D Myelo" with no description never wins T2 sagittal', () => {
    const real = t2();
    const myelo = sagittal(null, { ...T2_TSE, echoTime: 120, seriesNumber: 99, sopClassUids: ['1.2.840.10008.5.1.4.1.1.7'], imageType: ['DERIVED', 'SECONDARY'] }, 3);
    const d = routeStudy([t1(), real, axial('T2_TSE_TRA', T2_TSE), myelo]);
    expect(d.roles.t2_sag).toBe(real.seriesInstanceUid);
    const v = verdict(d, null);
    expect(v.accepted).toBe(false);
    expect(v.reasons).toContain('rejected: SOP class Secondary Capture (1.2.840.10008.5.1.4.1.1.7) is not an MR image');
    expect(v.reasons).toContain('rejected: 3 slices, fewer than 5');
  });

  it('a post-contrast T1 repeat loses to the pre-contrast T1, by name or by ContrastBolusAgent', () => {
    const pre = sagittal('t1_tse_sag', { ...T1_SE, seriesNumber: 2 });
    const postByName = sagittal('t1_tse_sag +C', { ...T1_SE, seriesNumber: 9 });
    const postByTag = sagittal('t1_tse_sag', { ...T1_SE, seriesNumber: 10, contrastBolusAgent: 'GADOVIST' });
    const d = routeStudy([pre, t2(), axial('T2_TSE_TRA', T2_TSE), postByName, postByTag]);
    expect(d.roles.t1_sag).toBe(pre.seriesInstanceUid);
    expect(verdict(d, 't1_tse_sag +C').reasons.join(' ')).toContain('rejected: post-contrast while pre-contrast series 2');
    expect(verdict(d, 't1_tse_sag', 10).reasons.join(' ')).toContain('ContrastBolusAgent present');
    // With no pre-contrast T1 the post-contrast one is used, and says so.
    const only = routeStudy([postByName, t2(), axial('T2_TSE_TRA', T2_TSE)]);
    expect(only.roles.t1_sag).toBe(postByName.seriesInstanceUid);
    expect(verdict(only, 't1_tse_sag +C').reasons.join(' ')).toContain('-20 post-contrast (+C)');
  });

  it('an explicit BodyPartExamined=BRAIN wins over a StudyDescription naming the lumbar spine', () => {
    const brain = { bodyPartExamined: 'BRAIN', studyDescription: 'MRI LUMBAR SPINE' };
    const d = routeStudy([sagittal('T1_SE_SAG', { ...T1_SE, ...brain }), sagittal('T2_TSE_SAG', { ...T2_TSE, ...brain }), axial('T2_TSE_TRA', { ...T2_TSE, ...brain })]);
    expect(d).toMatchObject({ kind: 'skip', reason: 'not a lumbar spine study (BodyPartExamined: BRAIN)', anatomy: { lumbar: false, source: 'BodyPartExamined' } });
    // An empty or generic spine BodyPartExamined falls back to the descriptions.
    const generic = { bodyPartExamined: 'SPINE', studyDescription: 'MRT LWS nativ' };
    const g = routeStudy([sagittal('T1_SE_SAG', { ...T1_SE, ...generic }), sagittal('T2_TSE_SAG', { ...T2_TSE, ...generic }), axial('T2_TSE_TRA', { ...T2_TSE, ...generic })]);
    expect(g).toMatchObject({ kind: 'route', anatomy: { lumbar: true, source: 'description', detail: 'StudyDescription names LWS' } });
    const cervical = { bodyPartExamined: '', studyDescription: 'MR C-SPINE' };
    expect(routeStudy([sagittal('T1_SE_SAG', { ...T1_SE, ...cervical }), sagittal('T2_TSE_SAG', { ...T2_TSE, ...cervical }), axial('T2_TSE_TRA', { ...T2_TSE, ...cervical })])).toMatchObject({
      kind: 'skip',
      reason: expect.stringContaining('StudyDescription names CSPINE'),
    });
  });

  it('a scanner that labels every image DERIVED\\SECONDARY is still acquired data; reformats are not', () => {
    const derived = { imageType: ['DERIVED', 'SECONDARY', 'OTHER'] };
    const d = routeStudy([sagittal('T1 SAG', { ...T1_SE, ...derived }), sagittal('T2 SAG', { ...T2_TSE, ...derived }), axial('T2 AX', { ...T2_TSE, ...derived })]);
    expect(d.kind).toBe('route');
    expect(verdict(d, 'T1 SAG').reasons).toContain('-5 ImageType DERIVED without a reformat marker: treated as acquired data');
    const mpr = sagittal('T2 SAG', { ...T2_TSE, seriesNumber: 50, imageType: ['DERIVED', 'SECONDARY', 'MPR'] });
    const real = t2();
    const r = routeStudy([t1(), real, axial('T2 AX', T2_TSE), mpr]);
    expect(r.roles.t2_sag).toBe(real.seriesInstanceUid);
    expect(verdict(r, 'T2 SAG', 50).reasons).toContain('rejected: reformat/projection (ImageType DERIVED\\SECONDARY\\MPR)');
    // A DERIVED repeat loses to an ORIGINAL series of the same role.
    const derivedRepeat = sagittal('T2_TSE_SAG', { ...T2_TSE, seriesNumber: 60, imageType: ['DERIVED', 'SECONDARY'] });
    const o = routeStudy([t1(), real, axial('T2 AX', T2_TSE), derivedRepeat]);
    expect(o.roles.t2_sag).toBe(real.seriesInstanceUid);
    expect(verdict(o, 'T2_TSE_SAG', 60).reasons.join(' ')).toContain('rejected: DERIVED while ORIGINAL');
  });

  it('routes an axial T2 with an empty description on its TR/TE (the charset failure case)', () => {
    const ax = axial(null, T2_TSE);
    const d = routeStudy([t1(), t2(), ax]);
    expect(d.roles.t2_ax).toBe(ax.seriesInstanceUid);
    expect(verdict(d, null).reasons.join(' ')).toContain('no weighting in the description; TR 3500 / TE 100 ms: T2-weighted');
  });

  it('prefers the later repeat only when the scores tie', () => {
    const first = sagittal('T2_TSE_SAG', { ...T2_TSE, seriesNumber: 3 });
    const repeat = sagittal('T2_TSE_SAG', { ...T2_TSE, seriesNumber: 7 });
    const fatSat = sagittal('T2_TSE_SAG_FS', { ...T2_TSE, seriesNumber: 8 });
    const d = routeStudy([t1(), first, repeat, fatSat, axial('T2_TSE_TRA', T2_TSE)]);
    expect(d.roles.t2_sag).toBe(repeat.seriesInstanceUid);
    expect(verdict(d, 'T2_TSE_SAG', 7).reasons.join(' ')).toContain('same score as series 3');
    expect(verdict(d, 'T2_TSE_SAG_FS').reasons.join(' ')).toContain('-10 fat-suppressed (FS)');
  });

  it('names rejected near misses in the skip reason, not just "missing series"', () => {
    const thin = axial('T2_TSE_TRA', T2_TSE, [0], 4);
    const d = routeStudy([t1(), t2(), thin]);
    expect(d).toMatchObject({ kind: 'skip', reason: expect.stringMatching(/^missing series: t2_ax \(rejected t2_ax: series \d+ "T2_TSE_TRA" 4 slices, fewer than 5\)$/) });
    expect(routeStudy([t1(), t2()])).toMatchObject({ kind: 'skip', reason: 'missing series: t2_ax' });
  });

  it('skips non-MR studies and routes on geometry only when the anatomy is not named', () => {
    expect(routeStudy([sagittal('T1', { modality: 'CT' })])).toMatchObject({ kind: 'skip', reason: expect.stringContaining('not an MR') });
    const silent = { bodyPartExamined: null };
    const d = routeStudy([sagittal(null, { ...T1_SE, ...silent }), sagittal(null, { ...T2_TSE, ...silent }), axial(null, { ...T2_TSE, ...silent })]);
    expect(d).toMatchObject({ kind: 'route', anatomy: { lumbar: true, source: 'geometry' } });
    // An axial stack far outside the sagittal images is not this spine.
    const far = axial(null, { ...T2_TSE, ...silent, positions: Array.from({ length: 12 }, (_, k) => [-100, -120, 600 + 4 * k]) });
    expect(routeStudy([sagittal(null, { ...T1_SE, ...silent }), sagittal(null, { ...T2_TSE, ...silent }), far])).toMatchObject({ kind: 'skip', reason: expect.stringContaining('outside the sagittal field of view') });
  });

  it('takes Enhanced MR per-frame geometry: one instance, many slices', () => {
    const enhanced = { instanceCount: 1, sopClassUids: ['1.2.840.10008.5.1.4.1.1.4.1'] };
    const ax = axial('T2 TSE AX', { ...T2_TSE, ...enhanced });
    const d = routeStudy([sagittal('T1 TSE SAG', { ...T1_SE, ...enhanced }), sagittal('T2 TSE SAG', { ...T2_TSE, ...enhanced }), ax]);
    expect(d.kind).toBe('route');
    expect(verdict(d, 'T2 TSE AX').reasons).toContain('+7 12 slices');
  });

  it('rejects localizers by ImageType and coronal or oblique series', () => {
    const loc = sagittal('T2 SAG', { ...T2_TSE, seriesNumber: 40, imageType: ['ORIGINAL', 'PRIMARY', 'LOCALIZER'] });
    const cor = sagittal('T2 COR', { ...T2_TSE, orientations: Array(13).fill(COR) });
    const d = routeStudy([t1(), t2(), axial('T2 AX', T2_TSE), loc, cor]);
    expect(verdict(d, 'T2 SAG', 40).reasons).toContain('rejected: ImageType LOCALIZER');
    expect(verdict(d, 'T2 COR').reasons).toContain('rejected: no role for T2 coronal');
  });
});
