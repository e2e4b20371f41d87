/**
 * One series on its own: its plane, weighting, the role it could play, a score and the reasons
 * for every point. Hard exclusions (localizer, reformat, non-MR SOP class, too few slices, ...)
 * are recorded as rejections; comparisons between series happen in decide.ts.
 */
import type { SeriesFacts } from './facts.js';
import { MR_IMAGE_SOP_CLASSES } from './facts.js';
import { planeFromOrientation, stackGeometry, type Plane, type StackGeometry } from './geometry.js';
import { sequencePenalties, weightingFromParameters, type Weighting } from './sequence.js';
import { readTerms, regionsOf, type DescriptionTerms } from './vocabulary.js';

export type SeriesRole = 't1_sag' | 't2_sag' | 't2_ax';
export const SERIES_ROLES: readonly SeriesRole[] = ['t1_sag', 't2_sag', 't2_ax'];

/** Tunables of the router; defaults suit routine lumbar protocols. */
export interface RoutingOptions {
  /** Fewest slices a sagittal / axial series needs to be a candidate. */
  minSlices: { sagittal: number; axial: number };
  /** Cosine of the largest tilt still counted as the plane (0.7 ≈ 45°: angled axial blocks). */
  obliqueTolerance: number;
  /** Most separately angled blocks one axial series may hold and still be one stack. */
  maxAxialBlocks: number;
}

export const DEFAULT_ROUTING_OPTIONS: RoutingOptions = { minSlices: { sagittal: 5, axial: 5 }, obliqueTolerance: 0.7, maxAxialBlocks: 6 };

/** Known SOP classes named in reasons (others are shown by UID). */
const SOP_CLASS_NAMES: Record<string, string> = {
  '1.2.840.10008.5.1.4.1.1.7': 'Secondary Capture',
  '1.2.840.10008.5.1.4.1.1.7.1': 'Multi-frame Single Bit Secondary Capture',
  '1.2.840.10008.5.1.4.1.1.7.2': 'Multi-frame Grayscale Byte Secondary Capture',
  '1.2.840.10008.5.1.4.1.1.7.3': 'Multi-frame Grayscale Word Secondary Capture',
  '1.2.840.10008.5.1.4.1.1.7.4': 'Multi-frame True Color Secondary Capture',
  '1.2.840.10008.5.1.4.1.1.4.2': 'MR Spectroscopy',
  '1.2.840.10008.5.1.4.1.1.4.3': 'Enhanced MR Color Image',
  '1.2.840.10008.5.1.4.1.1.11.1': 'Grayscale Softcopy Presentation State',
  '1.2.840.10008.5.1.4.1.1.88.11': 'Basic Text SR',
  '1.2.840.10008.5.1.4.1.1.88.22': 'Enhanced SR',
  '1.2.840.10008.5.1.4.1.1.88.33': 'Comprehensive SR',
  '1.2.840.10008.5.1.4.1.1.88.59': 'Key Object Selection',
  '1.2.840.10008.5.1.4.1.1.104.1': 'Encapsulated PDF',
  '1.2.840.10008.5.1.4.1.1.66': 'Raw Data',
};

/** ImageType values that mark a reformat or projection (MPR, MIP, resampled). */
const REFORMAT_IMAGE_TYPES = new Set(['REFORMATTED', 'MPR', 'PROJECTION IMAGE', 'MIP', 'MINIP', 'CSA MPR', 'CSA RESAMPLED', 'RESAMPLED', 'CSAPARALLEL', 'CSARADIAL', 'VOLUME RENDER', 'CURVED MPR']);

/** The verdict on one series, as stored and shown. */
export interface SeriesVerdict {
  seriesInstanceUid: string;
  seriesNumber: number | null;
  description: string | null;
  plane: Plane | 'mixed' | 'unknown';
  weighting: Weighting;
  /** The role this series could play (null: none). */
  role: SeriesRole | null;
  score: number;
  /** True only for the series chosen for its role. */
  accepted: boolean;
  /** Every reason, scored ones as "+10 ..." / "-15 ...", rejections as "rejected: ...". */
  reasons: string[];
}

/** A series' assessment before the study-level comparison. */
export interface SeriesAssessment {
  facts: SeriesFacts;
  verdict: SeriesVerdict;
  terms: DescriptionTerms;
  geometry: StackGeometry;
  /** Why the series cannot hold any role (empty: a candidate if `verdict.role`). */
  rejections: string[];
  postContrast: boolean;
  /** DERIVED without a reformat marker: still acquired data, but an ORIGINAL series is better. */
  derived: boolean;
  slices: number;
}

function describeWeighting(w: Weighting): string {
  return w === 't1' ? 'T1' : w === 't2' ? 'T2' : 'other';
}

/** Weighting from the description's words, or undefined when they say nothing either way. */
function weightingFromTerms(t: DescriptionTerms): { weighting: Weighting; reason: string; flairOnly?: boolean } | undefined {
  const h = t.hits;
  const said = (cls: string, words: string[] | undefined) => `${cls} (${(words ?? []).join(', ')})`;
  if (h.stir) return { weighting: 'other', reason: `description says ${said('STIR/TIRM', h.stir)}` };
  if (h.diffusion) return { weighting: 'other', reason: `description says ${said('diffusion', h.diffusion)}` };
  if (h.myelo) return { weighting: 'other', reason: `description says ${said('myelography', h.myelo)}` };
  if (t.t1.length > 0 && t.t2.length > 0) return undefined;
  if (t.t2.length > 0 && h.flair) return { weighting: 'other', reason: `description says T2 FLAIR (${[...t.t2, ...h.flair].join(', ')})` };
  if (t.t2.length > 0 && h.gradient) return { weighting: 'other', reason: `description says T2* gradient echo (${[...t.t2, ...h.gradient].join(', ')})` };
  if (h.flair?.includes('T1FLAIR') || (t.t1.length > 0 && h.flair)) return { weighting: 't1', reason: `description says T1 FLAIR (${[...t.t1, ...(h.flair ?? [])].join(', ')})` };
  if (t.t1.length > 0) return { weighting: 't1', reason: `description says T1 (${t.t1.join(', ')})` };
  if (t.t2.length > 0) return { weighting: 't2', reason: `description says T2 (${t.t2.join(', ')})` };
  if (h.pd) return { weighting: 'other', reason: `description says proton density (${h.pd.join(', ')})` };
  if (h.flair) return { weighting: 'other', reason: `description says FLAIR (${h.flair.join(', ')}) without T1/T2`, flairOnly: true };
  return undefined;
}

/** Weighting from description and parameters together, with the points and reasons it earns. */
export function combineWeighting(facts: SeriesFacts, terms: DescriptionTerms): { weighting: Weighting; points: number; reasons: string[] } {
  const byText = weightingFromTerms(terms);
  const byParams = weightingFromParameters(facts);
  if (byParams?.decisive && byParams.weighting === 'other') return { weighting: 'other', points: 0, reasons: [byParams.reason, ...(byText ? [byText.reason] : [])] };
  if (byText && !byText.flairOnly) {
    if (byText.weighting === 'other') return { weighting: 'other', points: 0, reasons: [byText.reason] };
    if (!byParams) return { weighting: byText.weighting, points: 15, reasons: [`+15 ${byText.reason}; no TR/TE to confirm`] };
    if (byParams.weighting === byText.weighting) return { weighting: byText.weighting, points: 30, reasons: [`+30 ${byText.reason}, and ${byParams.reason}`] };
    if (byParams.weighting === 'other') return { weighting: byText.weighting, points: 10, reasons: [`+10 ${byText.reason}; ${byParams.reason}`] };
    return { weighting: byParams.weighting, points: -10, reasons: [`-10 ${byText.reason} but ${byParams.reason}: parameters win`] };
  }
  if (byParams && byParams.weighting !== 'other') {
    const note = byText?.flairOnly ? `${byText.reason}; ` : 'no weighting in the description; ';
    return { weighting: byParams.weighting, points: 15, reasons: [`+15 ${note}${byParams.reason}`] };
  }
  if (byParams) return { weighting: 'other', points: 0, reasons: [byParams.reason, ...(byText ? [byText.reason] : [])] };
  return { weighting: 'other', points: 0, reasons: [byText ? `${byText.reason} and no TR/TE` : 'no weighting in the description and no TR/TE'] };
}

/** Score one series on its own (study-level comparisons come later). */
export function assessSeries(facts: SeriesFacts, opts: RoutingOptions = DEFAULT_ROUTING_OPTIONS): SeriesAssessment {
  const description = facts.seriesDescription ?? null;
  // The series' own names: SeriesDescription and ProtocolName (study-level text says nothing per series).
  const terms = readTerms(facts.seriesDescription, facts.protocolName);
  const reasons: string[] = [];
  const rejections: string[] = [];
  const imageType = (facts.imageType ?? []).map((v) => v.trim().toUpperCase());

  if (facts.modality && facts.modality.toUpperCase() !== 'MR') rejections.push(`modality ${facts.modality}`);
  const badSop = (facts.sopClassUids ?? []).filter((u) => !MR_IMAGE_SOP_CLASSES.has(u));
  if (badSop.length > 0) rejections.push(`SOP class ${badSop.map((u) => (SOP_CLASS_NAMES[u] ? `${SOP_CLASS_NAMES[u]} (${u})` : u)).join(', ')} is not an MR image`);
  if (imageType.includes('LOCALIZER')) rejections.push('ImageType LOCALIZER');
  else if (terms.hits.localizer) rejections.push(`localizer by name (${terms.hits.localizer.join(', ')})`);
  if (terms.hits.calibration && !terms.t1.length && !terms.t2.length) rejections.push(`calibration scan by name (${terms.hits.calibration.join(', ')})`);
  const reformatMarks = imageType.filter((v) => REFORMAT_IMAGE_TYPES.has(v));
  if (reformatMarks.length > 0) rejections.push(`reformat/projection (ImageType ${imageType.join('\\')})`);
  else if (terms.hits.reformat) rejections.push(`reformat/projection by name (${terms.hits.reformat.join(', ')})`);
  const derived = reformatMarks.length === 0 && imageType[0] === 'DERIVED';
  if (derived) reasons.push('-5 ImageType DERIVED without a reformat marker: treated as acquired data');
  const bodyPart = regionsOf(facts.bodyPartExamined);
  if (bodyPart['non-spine'] && !bodyPart.lumbar) rejections.push(`BodyPartExamined ${facts.bodyPartExamined}`);
  const ownRegion = regionsOf(facts.seriesDescription, facts.protocolName);
  if (!ownRegion.lumbar && (ownRegion['other-spine'] || ownRegion['non-spine'])) rejections.push(`series names another region (${[...(ownRegion['other-spine'] ?? []), ...(ownRegion['non-spine'] ?? [])].join(', ')})`);

  // Geometry: per-slice orientations when known, else the representative one.
  const orientations = facts.orientations && facts.orientations.length > 0 ? facts.orientations : facts.imageOrientationPatient ? [facts.imageOrientationPatient] : [];
  const geometry = stackGeometry(orientations, facts.positions ?? [], { obliqueTolerance: opts.obliqueTolerance, rows: facts.rows ?? null, columns: facts.columns ?? null, pixelSpacing: facts.pixelSpacing ?? null });
  let plane: SeriesVerdict['plane'] = geometry.plane;
  let points = 50;
  if (plane === 'unknown') {
    const named = terms.hits.sagittal ? 'sagittal' : terms.hits.axial || terms.hits.block ? 'axial' : terms.hits.coronal ? 'coronal' : undefined;
    if (named) {
      plane = named;
      points -= 5;
      reasons.push(`-5 no orientation in the header: plane ${named} from the description`);
    } else rejections.push('no orientation and no plane in the description');
  } else if (plane === 'mixed') rejections.push(`orientations in several planes (${geometry.blocks} orientations): a multi-plane localizer or composite`);
  else if (plane === 'oblique') rejections.push(`oblique: tilted ${geometry.maxTiltDeg}° from the nearest plane`);
  else {
    const namedPlanes = [terms.hits.sagittal ? 'sagittal' : '', terms.hits.axial || terms.hits.block ? 'axial' : '', terms.hits.coronal ? 'coronal' : ''].filter(Boolean);
    if (namedPlanes.includes(plane)) {
      points += 5;
      reasons.push(`+5 orientation ${plane}${geometry.blocks > 1 ? ` in ${geometry.blocks} blocks` : ''}, as the description says`);
    } else if (namedPlanes.length > 0) {
      points -= 5;
      reasons.push(`-5 orientation ${plane} but the description says ${namedPlanes.join('/')}`);
    } else reasons.push(`orientation ${plane}${geometry.blocks > 1 ? ` in ${geometry.blocks} blocks` : ''}`);
    if (geometry.blocks > 1 && plane === 'axial') {
      if (geometry.blocks > opts.maxAxialBlocks) rejections.push(`${geometry.blocks} distinct orientations: more blocks than ${opts.maxAxialBlocks} (radial or composite)`);
      else reasons.push(`${geometry.blocks} separately angled blocks (max tilt ${geometry.maxTiltDeg}°) treated as one stack`);
    }
  }

  const w = combineWeighting(facts, terms);
  points += w.points;
  reasons.push(...w.reasons);
  for (const p of facts.source === 'database' ? [] : sequencePenalties(facts)) {
    points += p.points;
    reasons.push(`${p.points} ${p.reason}`);
  }
  if (terms.hits.gradient && w.weighting === 't1') {
    points -= 15;
    reasons.push(`-15 gradient echo by name (${terms.hits.gradient.join(', ')}): spin echo preferred`);
  }
  if (terms.hits.singleShot) {
    points -= 15;
    reasons.push(`-15 single-shot by name (${terms.hits.singleShot.join(', ')})`);
  }
  if (terms.hits.fatSat) {
    points -= 10;
    reasons.push(`-10 fat-suppressed (${terms.hits.fatSat.join(', ')})`);
  }
  if (derived) points -= 5;

  // Contrast from the series' own description only: GE's ProtocolName names the whole exam ("+C").
  const own = readTerms(facts.seriesDescription).hits;
  const postByName = own.contrastPost && !own.contrastPre ? own.contrastPost : undefined;
  const postContrast = Boolean(postByName || (facts.contrastBolusAgent && !own.contrastPre));
  if (postContrast) {
    points -= 20;
    reasons.push(`-20 post-contrast (${postByName ? postByName.join(', ') : 'ContrastBolusAgent present'})`);
  }

  const role: SeriesRole | null = plane === 'sagittal' && w.weighting === 't1' ? 't1_sag' : plane === 'sagittal' && w.weighting === 't2' ? 't2_sag' : plane === 'axial' && w.weighting === 't2' ? 't2_ax' : null;
  if (!role && rejections.length === 0) rejections.push(`no role for ${describeWeighting(w.weighting)} ${plane}`);

  const slices = Math.max(facts.instanceCount, facts.positions?.length ?? 0);
  const min = plane === 'axial' ? opts.minSlices.axial : opts.minSlices.sagittal;
  if (slices < min) rejections.push(`${slices} slice${slices === 1 ? '' : 's'}, fewer than ${min}`);
  else {
    const bonus = Math.min(10, slices - min);
    points += bonus;
    reasons.push(`+${bonus} ${slices} slices`);
  }
  if (role === 't2_ax' && geometry.zRange) {
    const extent = Math.round(geometry.zRange[1] - geometry.zRange[0]);
    if (extent >= 30) {
      points += 10;
      reasons.push(`+10 covers ${extent} mm along the patient axis (several disc levels)`);
    } else reasons.push(`covers ${extent} mm along the patient axis (one level)`);
  }

  return {
    facts,
    terms,
    geometry,
    rejections,
    postContrast,
    derived,
    slices,
    verdict: {
      seriesInstanceUid: facts.seriesInstanceUid,
      seriesNumber: facts.seriesNumber ?? null,
      description,
      plane,
      weighting: w.weighting,
      role,
      score: points,
      accepted: false,
      reasons,
    },
  };
}

/** Weighting of a series from its description and parameters (what {@link assessSeries} uses). */
export function weightingOf(s: Pick<SeriesFacts, 'seriesDescription'> & Partial<SeriesFacts>): Weighting {
  return combineWeighting({ instanceCount: 0, seriesInstanceUid: '', ...s }, readTerms(s.seriesDescription, s.protocolName)).weighting;
}

export { planeFromOrientation };
