/**
 * Study routing: is this a lumbar spine MRI, and which series are T1 sagittal, T2 sagittal and
 * T2 axial? Pure functions over {@link SeriesFacts}, so the rule is testable and explainable:
 * every series gets a score and its reasons, every "no" a reason that ends up in
 * Study.stateReason, the stored routing decision and the audit trail.
 */
import type { SeriesFacts } from './facts.js';
import { overlapFraction } from './geometry.js';
import { assessSeries, DEFAULT_ROUTING_OPTIONS, SERIES_ROLES, type RoutingOptions, type SeriesAssessment, type SeriesRole, type SeriesVerdict } from './score.js';
import { regionsOf, type Region } from './vocabulary.js';

/** How the study's anatomy was decided. */
export interface AnatomyVerdict {
  lumbar: boolean | 'unknown';
  source: 'BodyPartExamined' | 'description' | 'geometry' | 'none';
  detail: string;
}

interface DecisionBase {
  /** One entry per series, in input order. */
  series: SeriesVerdict[];
  anatomy: AnatomyVerdict;
  /** Compact form of `series` kept for callers of the first router. */
  classified: Array<{ seriesInstanceUid: string; plane: SeriesVerdict['plane']; weighting: SeriesVerdict['weighting']; role: SeriesRole | 'other' }>;
}

export type RouteDecision =
  | (DecisionBase & { kind: 'route'; roles: Record<SeriesRole, string> })
  | (DecisionBase & { kind: 'skip'; reason: string; roles: Partial<Record<SeriesRole, string>> });

const label = (a: SeriesAssessment) => `series ${a.verdict.seriesNumber ?? '?'}${a.verdict.description ? ` "${a.verdict.description}"` : ''}`;

/** The first of `fields` whose text names `region`, for the anatomy reason. */
function namer(fields: Array<[string, string | null | undefined]>, region: Region): string | undefined {
  for (const [name, text] of fields) {
    const words = regionsOf(text)[region];
    if (words) return `${name} names ${words.join(', ')}`;
  }
  return undefined;
}

function decideAnatomy(mr: SeriesAssessment[]): { verdict: AnatomyVerdict; skip?: string } {
  const parts = [...new Set(mr.map((a) => a.facts.bodyPartExamined?.trim() || '(none)'))].join(',');
  const spineish = mr.filter((a) => !a.rejections.some((r) => r.startsWith('BodyPartExamined ')));
  if (spineish.length === 0) {
    return { verdict: { lumbar: false, source: 'BodyPartExamined', detail: `BodyPartExamined ${parts}` }, skip: `not a lumbar spine study (BodyPartExamined: ${parts})` };
  }
  const lumbarPart = spineish.find((a) => regionsOf(a.facts.bodyPartExamined).lumbar);
  if (lumbarPart) return { verdict: { lumbar: true, source: 'BodyPartExamined', detail: `BodyPartExamined ${lumbarPart.facts.bodyPartExamined}` } };
  const first = spineish[0]!.facts;
  const fields: Array<[string, string | null | undefined]> = [
    ['StudyDescription', first.studyDescription],
    ['RequestedProcedureDescription', first.requestedProcedureDescription],
    ...spineish.flatMap((a) => (a.facts.extraDescriptions ?? []).map((t): [string, string] => ['description', t])),
    ...spineish.map((a): [string, string | null | undefined] => ['ProtocolName', a.facts.protocolName]),
    ...spineish.map((a): [string, string | null | undefined] => ['SeriesDescription', a.facts.seriesDescription]),
  ];
  const named = regionsOf(...fields.map(([, t]) => t));
  if (named.lumbar) return { verdict: { lumbar: true, source: 'description', detail: namer(fields, 'lumbar')! } };
  for (const region of ['other-spine', 'non-spine'] as const) {
    if (named[region]) {
      const detail = namer(fields, region)!;
      return { verdict: { lumbar: false, source: 'description', detail }, skip: `not a lumbar spine study (${detail}; BodyPartExamined: ${parts})` };
    }
  }
  const otherSpinePart = spineish.find((a) => regionsOf(a.facts.bodyPartExamined)['other-spine']);
  if (otherSpinePart) {
    return { verdict: { lumbar: false, source: 'BodyPartExamined', detail: `BodyPartExamined ${otherSpinePart.facts.bodyPartExamined}` }, skip: `not a lumbar spine study (BodyPartExamined: ${parts})` };
  }
  return { verdict: { lumbar: 'unknown', source: 'none', detail: `anatomy not named (BodyPartExamined: ${parts}; descriptions silent)` } };
}

/** Drop candidates beaten by a better kind of series: pre-contrast over post, ORIGINAL over DERIVED. */
function preferKind(cands: SeriesAssessment[], role: SeriesRole, rejected: Map<SeriesAssessment, string[]>): SeriesAssessment[] {
  let out = cands;
  const pre = out.find((a) => !a.postContrast);
  if (pre && out.some((a) => a.postContrast)) {
    for (const a of out.filter((x) => x.postContrast)) rejected.get(a)!.push(`post-contrast while pre-contrast ${label(pre)} is a ${role} candidate`);
    out = out.filter((a) => !a.postContrast);
  }
  const original = out.find((a) => !a.derived);
  if (original && out.some((a) => a.derived)) {
    for (const a of out.filter((x) => x.derived)) rejected.get(a)!.push(`DERIVED while ORIGINAL ${label(original)} is a ${role} candidate`);
    out = out.filter((a) => !a.derived);
  }
  return out;
}

/** Decide the route for a study from its series. */
export function routeStudy(series: SeriesFacts[], options: Partial<RoutingOptions> = {}): RouteDecision {
  const opts: RoutingOptions = { ...DEFAULT_ROUTING_OPTIONS, ...options, minSlices: { ...DEFAULT_ROUTING_OPTIONS.minSlices, ...options.minSlices } };
  const all = series.map((s) => assessSeries(s, opts));
  const rejected = new Map(all.map((a) => [a, [...a.rejections]]));
  const roles: Partial<Record<SeriesRole, string>> = {};
  const finish = (anatomy: AnatomyVerdict, skip?: string): RouteDecision => {
    const verdicts = all.map((a) => ({ ...a.verdict, reasons: [...a.verdict.reasons, ...rejected.get(a)!.map((r) => `rejected: ${r}`)] }));
    const classified = verdicts.map((v) => ({ seriesInstanceUid: v.seriesInstanceUid, plane: v.plane, weighting: v.weighting, role: v.accepted && v.role ? v.role : ('other' as const) }));
    return skip === undefined
      ? { kind: 'route', roles: roles as Record<SeriesRole, string>, series: verdicts, anatomy, classified }
      : { kind: 'skip', reason: skip, roles, series: verdicts, anatomy, classified };
  };

  const mr = all.filter((a) => (a.facts.modality ?? '').toUpperCase() === 'MR');
  if (mr.length === 0) {
    const modalities = [...new Set(series.map((s) => s.modality || '?'))].join(',');
    return finish({ lumbar: false, source: 'none', detail: `modalities ${modalities}` }, `not an MR study (modalities: ${modalities})`);
  }
  const anatomy = decideAnatomy(mr);
  if (anatomy.skip) return finish(anatomy.verdict, anatomy.skip);

  // Sagittal roles first: the axial stack is then checked against the sagittal field of view.
  for (const role of SERIES_ROLES) {
    let cands = all.filter((a) => a.verdict.role === role && rejected.get(a)!.length === 0);
    cands = preferKind(cands, role, rejected);
    if (role === 't2_ax') {
      const sag = all.find((a) => a.verdict.accepted && a.geometry.imageZRange);
      for (const a of cands) {
        const sameFrame = !sag?.facts.frameOfReferenceUid || !a.facts.frameOfReferenceUid || sag.facts.frameOfReferenceUid === a.facts.frameOfReferenceUid;
        if (!sag?.geometry.imageZRange || !a.geometry.zRange || !sameFrame) continue;
        const f = overlapFraction(a.geometry.zRange, sag.geometry.imageZRange);
        if (f >= 0.5) {
          a.verdict.score += 10;
          a.verdict.reasons.push(`+10 lies within the sagittal field of view of ${label(sag)}`);
        } else if (f === 0) {
          a.verdict.score -= 30;
          a.verdict.reasons.push(`-30 lies outside the sagittal field of view of ${label(sag)}`);
        }
      }
    }
    cands.sort((x, y) => y.verdict.score - x.verdict.score || (y.verdict.seriesNumber ?? 0) - (x.verdict.seriesNumber ?? 0));
    const [best, ...rest] = cands;
    if (!best) continue;
    best.verdict.accepted = true;
    roles[role] = best.verdict.seriesInstanceUid;
    const tie = rest.find((r) => r.verdict.score === best.verdict.score);
    best.verdict.reasons.push(`chosen for ${role} (score ${best.verdict.score})${tie ? `; same score as ${label(tie)}: the later series wins` : ''}`);
    for (const r of rest) rejected.get(r)!.push(`${label(best)} is the better ${role} (score ${best.verdict.score} vs ${r.verdict.score})`);
  }

  const missing = SERIES_ROLES.filter((r) => !roles[r]);
  if (missing.length > 0) {
    // Name the near misses (the right plane and weighting, but rejected) so the reason is actionable.
    const near = missing.flatMap((role) =>
      all.filter((a) => a.verdict.role === role && !a.verdict.accepted).map((a) => `${role}: ${label(a)} ${rejected.get(a)!.join('; ')}`),
    );
    const unknown = anatomy.verdict.lumbar === 'unknown' ? `; ${anatomy.verdict.detail}` : '';
    return finish(anatomy.verdict, `missing series: ${missing.join(', ')}${near.length > 0 ? ` (rejected ${near.join(' | ')})` : ''}${unknown}`);
  }
  if (anatomy.verdict.lumbar === 'unknown') {
    const ax = all.find((a) => a.verdict.seriesInstanceUid === roles.t2_ax)!;
    const outside = ax.verdict.reasons.some((r) => r.includes('outside the sagittal field of view'));
    if (outside) return finish(anatomy.verdict, `not a lumbar spine study (${anatomy.verdict.detail}; the axial stack lies outside the sagittal field of view)`);
    return finish({ lumbar: true, source: 'geometry', detail: `${anatomy.verdict.detail}: routed on geometry (sagittal T1 and T2 and an axial T2 stack)` });
  }
  return finish(anatomy.verdict);
}
