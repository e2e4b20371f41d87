/**
 * TID 1500 "Imaging Measurement Report" as a Comprehensive SR: the machine-readable LDH result
 * that goes back to the PACS. Content follows sr-content.md sections 3, 4, 7 and 10; every
 * choice a reader might question is commented where it is made.
 */
import { uidFromName } from '@ldh/dicom';
import { CODES, DISC_CODES, SOP_CLASSES, type Code } from './codes.js';
import { codeValue, container, distinctInstances, image, imageRef, num, text, uidRef, type ContentItem } from './content-item.js';
import { dicomDate, dicomTime, formatPercent, assertProbability } from './dicom-format.js';
import { SrInputError } from './errors.js';
import {
  characterSet,
  contributingEquipment,
  equipment,
  evidence,
  patientAndStudy,
  sopCommon,
} from './header.js';
import { writePart10 } from './part10.js';
import {
  DEFAULT_SR_SERIES_NUMBER,
  DISC_LEVELS,
  type Decision,
  type LevelResult,
  type MeasurementReportInput,
  type SourceImageRef,
} from './types.js';
import { languageAndObserver } from './observer-context.js';
import { assertNewObject, assertText, assertUid, imageKey, validateAlgorithm, validateImages, validateInstance, validateStudy } from './validate-input.js';

/** Tracking Identifier of the study-level group (per-level groups use the level, e.g. "L4-L5"). */
export const STUDY_TRACKING_IDENTIFIER = 'LDH study';
/** Written into Algorithm Parameters (and the header) when the model is a placeholder. */
export const PLACEHOLDER_MARKER = 'PLACEHOLDER MODEL';

const MR_SOP_CLASSES = new Set<string>([SOP_CLASSES.mrImage, SOP_CLASSES.enhancedMrImage]);

/**
 * Builds the Part-10 Comprehensive SR (TID 1500) for one study result. Deterministic: the same
 * input gives the same bytes, so a retried job re-sends an identical object.
 */
export function buildMeasurementReport(input: MeasurementReportInput): Uint8Array {
  return writePart10(measurementReportDataset(input));
}

/** The naturalized dataset behind {@link buildMeasurementReport} (exported for tree tests). */
export function measurementReportDataset(input: MeasurementReportInput): Record<string, unknown> {
  validateReportInput(input);
  const { study, images, algorithm } = input;
  const when = input.contentDateTime;

  const root = container(
    undefined,
    CODES.imagingMeasurementReport,
    [
      ...languageAndObserver(algorithm),
      codeValue('HAS CONCEPT MOD', CODES.procedureReported, CODES.imagingProcedure),
      imageLibrary(images),
      container('CONTAINS', CODES.imagingMeasurements, [
        studyGroup(input),
        ...sortedLevels(input.levels ?? []).map((level) => levelGroup(input, level)),
      ]),
    ],
    '1500',
  );

  const body: Record<string, unknown> = {
    ...sopCommon(SOP_CLASSES.comprehensiveSr, input.sopInstanceUid, when),
    ...patientAndStudy(study),
    // SR Document Series
    Modality: 'SR',
    SeriesInstanceUID: input.seriesInstanceUid,
    SeriesNumber: input.seriesNumber ?? DEFAULT_SR_SERIES_NUMBER,
    SeriesDescription: algorithm.placeholder ? `AI LDH triage - ${PLACEHOLDER_MARKER}` : 'AI LDH triage (preliminary)',
    ReferencedPerformedProcedureStepSequence: [],
    ...equipment(algorithm),
    ...contributingEquipment(algorithm, when),
    // SR Document General: machine output, never verified by a person here.
    InstanceNumber: input.instanceNumber ?? 1,
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    PreliminaryFlag: 'PRELIMINARY',
    ContentDate: dicomDate(when),
    ContentTime: dicomTime(when),
    PerformedProcedureCodeSequence: [],
    ...evidence(study.studyInstanceUid, distinctInstances(images)),
    // SR Document Content: the root container's attributes live in the dataset itself.
    ...root,
  };
  return { ...characterSet(body), ...body };
}

function validateReportInput(input: MeasurementReportInput): void {
  validateStudy(input.study);
  validateImages(input.images);
  validateAlgorithm(input.algorithm);
  validateInstance(input);
  assertProbability(input.studyProbability, 'studyProbability');
  assertProbability(input.threshold, 'threshold');
  if (input.decision !== 'ldh' && input.decision !== 'healthy') {
    throw new SrInputError('decision', `must be "ldh" or "healthy", got ${JSON.stringify(input.decision)}`);
  }
  if (input.trackingUid !== undefined) assertUid(input.trackingUid, 'trackingUid');
  if (input.aggregation !== undefined) assertText(input.aggregation, 'aggregation', 64);
  if (input.aggregation?.includes(';')) throw new SrInputError('aggregation', 'must not contain ";" (parameter separator)');
  assertNewObject(input.sopInstanceUid, input.seriesInstanceUid, input.images);
  const imageUids = new Set(input.images.map((i) => i.sopInstanceUid));
  const imageKeys = new Set(input.images.map(imageKey));
  const levels = new Set<string>();
  (input.levels ?? []).forEach((l, i) => {
    const at = `levels[${i}]`;
    if (!(DISC_LEVELS as readonly string[]).includes(l.level)) throw new SrInputError(`${at}.level`, `unknown level ${JSON.stringify(l.level)}`);
    if (levels.has(l.level)) throw new SrInputError(`${at}.level`, `duplicate level ${l.level}`);
    levels.add(l.level);
    assertProbability(l.probability, `${at}.probability`);
    // Every referenced image must be in the evidence sequence (dciodvfy error otherwise).
    if (l.sourceSopInstanceUid !== undefined && !imageUids.has(l.sourceSopInstanceUid)) {
      throw new SrInputError(`${at}.sourceSopInstanceUid`, `${l.sourceSopInstanceUid} is not one of the report's images`);
    }
    if (l.threshold !== undefined) assertProbability(l.threshold, `${at}.threshold`);
    if (l.decision !== undefined && l.decision !== 'ldh' && l.decision !== 'healthy') throw new SrInputError(`${at}.decision`, `must be "ldh" or "healthy", got ${JSON.stringify(l.decision)}`);
    (l.sources ?? []).forEach((src, j) => {
      if (!imageKeys.has(imageKey(src))) throw new SrInputError(`${at}.sources[${j}]`, `${src.sopInstanceUid}${src.frameNumber === undefined ? '' : ` frame ${src.frameNumber}`} is not one of the report's images`);
    });
    if (l.sourceFrameNumber !== undefined) {
      if (l.sourceSopInstanceUid === undefined) throw new SrInputError(`${at}.sourceFrameNumber`, 'needs sourceSopInstanceUid');
      if (!imageKeys.has(imageKey({ sopInstanceUid: l.sourceSopInstanceUid, frameNumber: l.sourceFrameNumber }))) {
        throw new SrInputError(`${at}.sourceFrameNumber`, `frame ${l.sourceFrameNumber} of ${l.sourceSopInstanceUid} is not one of the report's images`);
      }
    }
  });
}

/**
 * TID 1600 Image Library: one group (OHIF reads only the first) with Modality as a shared
 * descriptor when all images are MR, and each image's Frame of Reference as its own descriptor.
 */
function imageLibrary(images: readonly SourceImageRef[]): ContentItem {
  const shared: ContentItem[] = images.every((i) => MR_SOP_CLASSES.has(i.sopClassUid))
    ? [codeValue('HAS ACQ CONTEXT', CODES.modality, CODES.magneticResonance)]
    : [];
  const entries = images.map((img) =>
    image(
      'CONTAINS',
      CODES.source,
      imageRef(img),
      img.frameOfReferenceUid !== undefined ? [uidRef('HAS ACQ CONTEXT', CODES.frameOfReferenceUid, img.frameOfReferenceUid)] : undefined,
    ),
  );
  return container('CONTAINS', CODES.imageLibrary, [container('CONTAINS', CODES.imageLibraryGroup, [...shared, ...entries])]);
}

/** "threshold=0.5; aggregation=mean;" plus the placeholder marker when applicable. */
export function algorithmParameters(input: Pick<MeasurementReportInput, 'threshold' | 'aggregation' | 'algorithm'>): string {
  const params = `threshold=${String(input.threshold)}; aggregation=${input.aggregation ?? 'unspecified'};`;
  return input.algorithm.placeholder ? `${params} ${PLACEHOLDER_MARKER}` : params;
}

/** TID 4019 rows, repeated in every group (older readers look for them there). */
function algorithmRows(input: Pick<MeasurementReportInput, 'threshold' | 'aggregation' | 'algorithm'>): ContentItem[] {
  return [
    text('HAS CONCEPT MOD', CODES.algorithmName, input.algorithm.name),
    text('HAS CONCEPT MOD', CODES.algorithmVersion, input.algorithm.version),
    text('HAS CONCEPT MOD', CODES.algorithmParameters, algorithmParameters(input)),
  ];
}

const decisionCode = (d: Decision): Code => (d === 'ldh' ? CODES.present : CODES.absent);

/** NUM (111012) "Certainty of Finding" in percent with INFERRED FROM the images it was computed from. */
function certainty(probability: number, field: string, sources: readonly SourceImageRef[]): ContentItem {
  return num(
    'CONTAINS',
    CODES.certaintyOfFinding,
    formatPercent(probability, field),
    CODES.percent,
    sources.map((s) => image('INFERRED FROM', CODES.sourceOfMeasurement, imageRef(s))),
  );
}

/**
 * A TID 1501 group in template row order: tracking ids (2, 3), Finding (3b), Finding Site (6),
 * algorithm (9b), NUMs (10), source IMAGEs (10b), then the coded evaluation (11).
 */
function measurementGroup(parts: {
  trackingIdentifier: string;
  trackingUid: string;
  site: Code;
  input: Pick<MeasurementReportInput, 'threshold' | 'aggregation' | 'algorithm'>;
  nums: ContentItem[];
  sources: readonly SourceImageRef[];
  decision: Decision;
}): ContentItem {
  return container(
    'CONTAINS',
    CODES.measurementGroup,
    [
      text('HAS OBS CONTEXT', CODES.trackingIdentifier, parts.trackingIdentifier),
      uidRef('HAS OBS CONTEXT', CODES.trackingUniqueIdentifier, parts.trackingUid),
      codeValue('CONTAINS', CODES.finding, CODES.prolapsedLumbarDisc),
      codeValue('HAS CONCEPT MOD', CODES.findingSite, parts.site),
      ...algorithmRows(parts.input),
      ...parts.nums,
      ...parts.sources.map((s) => image('CONTAINS', CODES.sourceOfMeasurement, imageRef(s))),
      codeValue('CONTAINS', CODES.prolapsedLumbarDisc, decisionCode(parts.decision)),
    ],
    '1501',
  );
}

/**
 * Tracking UID of the study finding: stable per study (derived from its UID) so successive
 * report versions track the same finding; per-level UIDs derive from it.
 */
export function studyTrackingUid(input: Pick<MeasurementReportInput, 'trackingUid' | 'study'>): string {
  return input.trackingUid ?? uidFromName(`ldh:tracking:${input.study.studyInstanceUid}:study`);
}

/**
 * Study group: the study certainty (INFERRED FROM every image used), then one NUM per image with
 * that image's own certainty, so the SR lists each image used with its score.
 */
function studyGroup(input: MeasurementReportInput): ContentItem {
  return measurementGroup({
    trackingIdentifier: STUDY_TRACKING_IDENTIFIER,
    trackingUid: studyTrackingUid(input),
    site: CODES.lumbarSpine,
    input,
    nums: [
      certainty(input.studyProbability, 'studyProbability', input.images),
      ...input.images.map((img, i) => certainty(img.probability, `images[${i}].probability`, [img])),
    ],
    sources: input.images,
    decision: input.decision,
  });
}

/**
 * Per-level group: Finding Site from CID 7604 (the disc), the level's certainty INFERRED FROM its
 * key image, its source IMAGEs (the axial images assigned to the level), its own threshold in
 * Algorithm Parameters, and its decision (default: probability >= threshold).
 */
function levelGroup(input: MeasurementReportInput, level: LevelResult): ContentItem {
  const find = (ref: { sopInstanceUid: string; frameNumber?: number | undefined }): SourceImageRef | undefined =>
    input.images.find((i) => i.sopInstanceUid === ref.sopInstanceUid && (ref.frameNumber === undefined || i.frameNumber === ref.frameNumber));
  const key = level.sourceSopInstanceUid !== undefined ? find({ sopInstanceUid: level.sourceSopInstanceUid, frameNumber: level.sourceFrameNumber }) : undefined;
  const listed = (level.sources ?? []).flatMap((s) => {
    const img = find(s);
    return img ? [img] : [];
  });
  const sources = listed.length > 0 ? listed : key !== undefined ? [key] : input.images;
  const threshold = level.threshold ?? input.threshold;
  return measurementGroup({
    trackingIdentifier: level.level,
    trackingUid: uidFromName(`${studyTrackingUid(input)}:${level.level}`),
    site: DISC_CODES[level.level],
    input: { ...input, threshold },
    nums: [certainty(level.probability, `levels.${level.level}.probability`, key !== undefined ? [key] : sources)],
    sources,
    decision: level.decision ?? (level.probability >= threshold ? 'ldh' : 'healthy'),
  });
}

function sortedLevels(levels: readonly LevelResult[]): LevelResult[] {
  return [...levels].sort((a, b) => DISC_LEVELS.indexOf(a.level) - DISC_LEVELS.indexOf(b.level));
}
