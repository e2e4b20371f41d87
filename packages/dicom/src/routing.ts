/**
 * Study routing: is this a lumbar spine MRI, and which series are T1 sagittal, T2 sagittal and
 * T2 axial? Pure functions over series metadata so the rule is testable and explainable: every
 * "no" carries a reason that ends up in Study.stateReason and the audit trail.
 */

export type Plane = 'sagittal' | 'coronal' | 'axial' | 'oblique';
export type Weighting = 't1' | 't2' | 'other';
export type SeriesRole = 't1_sag' | 't2_sag' | 't2_ax';

export interface SeriesFacts {
  seriesInstanceUid: string;
  modality?: string | null;
  seriesDescription?: string | null;
  bodyPartExamined?: string | null;
  seriesNumber?: number | null;
  instanceCount: number;
  /** ImageOrientationPatient of a representative instance (6 direction cosines). */
  imageOrientationPatient?: number[] | null;
  repetitionTime?: number | null;
  echoTime?: number | null;
  /** Other series-level text that may name the anatomy (e.g. StudyDescription, ProtocolName). */
  extraDescriptions?: string[];
}

export type RouteDecision =
  | { kind: 'route'; roles: Record<SeriesRole, string>; classified: Array<{ seriesInstanceUid: string; plane: Plane; weighting: Weighting; role: SeriesRole | 'other' }> }
  | { kind: 'skip'; reason: string; classified: Array<{ seriesInstanceUid: string; plane: Plane; weighting: Weighting; role: SeriesRole | 'other' }> };

/** Plane from the slice normal (row × column cosines) in the patient (LPS) frame. */
export function planeFromOrientation(iop: number[] | null | undefined, obliqueTolerance = 0.8): Plane {
  if (!iop || iop.length !== 6 || iop.some((v) => !Number.isFinite(v))) return 'oblique';
  const [rx, ry, rz, cx, cy, cz] = iop as [number, number, number, number, number, number];
  const n = [ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx];
  const len = Math.hypot(n[0]!, n[1]!, n[2]!);
  if (len < 1e-6) return 'oblique';
  const a = n.map((v) => Math.abs(v / len));
  const max = Math.max(...a);
  if (max < obliqueTolerance) return 'oblique';
  if (max === a[0]) return 'sagittal';
  if (max === a[1]) return 'coronal';
  return 'axial';
}

/** Weighting from the description first (what technologists name), then TR/TE. */
export function weightingOf(s: Pick<SeriesFacts, 'seriesDescription' | 'repetitionTime' | 'echoTime'>): Weighting {
  const d = (s.seriesDescription ?? '').toUpperCase();
  if (/STIR|FLAIR|TIRM|DWI|DIFF|ADC|LOC|SCOUT|SURVEY|MYELO/.test(d)) return 'other';
  if (/(^|[^A-Z0-9])T1|T1W|T1_/.test(d)) return 't1';
  if (/(^|[^A-Z0-9])T2|T2W|T2_/.test(d)) return 't2';
  const tr = s.repetitionTime ?? undefined;
  const te = s.echoTime ?? undefined;
  if (tr !== undefined && te !== undefined) {
    if (tr < 1000 && te < 30) return 't1';
    if (tr >= 2000 && te >= 60) return 't2';
  }
  return 'other';
}

const LUMBAR = /LSPINE|L-SPINE|L SPINE|LUMB|LWS|LENDEN|RACHIS LOMB/;

/** Decide the route for a study from its series. */
export function routeStudy(series: SeriesFacts[]): RouteDecision {
  const classified = series.map((s) => {
    const plane = planeFromOrientation(s.imageOrientationPatient);
    const weighting = weightingOf(s);
    const role: SeriesRole | 'other' =
      s.modality !== 'MR' ? 'other' : plane === 'sagittal' && weighting === 't1' ? 't1_sag' : plane === 'sagittal' && weighting === 't2' ? 't2_sag' : plane === 'axial' && weighting === 't2' ? 't2_ax' : 'other';
    return { seriesInstanceUid: s.seriesInstanceUid, plane, weighting, role, s };
  });
  const out = classified.map(({ s: _s, ...c }) => c);
  const mr = series.filter((s) => s.modality === 'MR');
  if (mr.length === 0) return { kind: 'skip', reason: `not an MR study (modalities: ${[...new Set(series.map((s) => s.modality ?? '?'))].join(',')})`, classified: out };
  const lumbar = mr.some((s) => LUMBAR.test([(s.bodyPartExamined ?? ''), (s.seriesDescription ?? ''), ...(s.extraDescriptions ?? [])].join(' ').toUpperCase()));
  if (!lumbar) {
    const parts = [...new Set(mr.map((s) => s.bodyPartExamined || '(none)'))].join(',');
    return { kind: 'skip', reason: `not a lumbar spine study (BodyPartExamined: ${parts})`, classified: out };
  }
  const roles: Partial<Record<SeriesRole, string>> = {};
  for (const role of ['t1_sag', 't2_sag', 't2_ax'] as const) {
    // Several candidates (a repeated sequence): take the latest series number, usually the better repeat.
    const candidates = classified.filter((c) => c.role === role && c.s.instanceCount > 0).sort((a, b) => (b.s.seriesNumber ?? 0) - (a.s.seriesNumber ?? 0));
    if (candidates[0]) roles[role] = candidates[0].seriesInstanceUid;
  }
  const missing = (['t1_sag', 't2_sag', 't2_ax'] as const).filter((r) => !roles[r]);
  if (missing.length > 0) return { kind: 'skip', reason: `missing series: ${missing.join(', ')}`, classified: out };
  return { kind: 'route', roles: roles as Record<SeriesRole, string>, classified: out };
}
