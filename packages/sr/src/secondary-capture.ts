/**
 * The triage summary as a DICOM Secondary Capture Image (1.2.840.10008.5.1.4.1.1.7, RGB): the one
 * object every PACS viewer displays, for sites whose viewers show no SR. It joins the source study
 * in a new series, with Patient/Study attributes copied exactly as the SR copies them (UTF-8 with
 * ISO_IR 192 declared when any text is non-ASCII). The pixels carry burned-in text, so
 * BurnedInAnnotation is YES; ConversionType WSD (workstation) as the image is rendered by software.
 */
import { decodeFrame } from '@ldh/dicom';
import { assertProbability, dicomDate, dicomTime } from './dicom-format.js';
import { SrInputError } from './errors.js';
import { characterSet, contributingEquipment, equipment, patientAndStudy, sopCommon } from './header.js';
import { writePart10 } from './part10.js';
import { renderSummary, type RenderedSummary, type SummaryLevel } from './summary-render.js';
import { DISC_LEVELS, type AlgorithmIdentity, type Decision, type DiscLevel, type SourceStudyHeader } from './types.js';
import { assertDate, assertNewObject, assertUid, validateAlgorithm, validateInstance, validateStudy } from './validate-input.js';

export const SECONDARY_CAPTURE_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.7';
export const DEFAULT_SC_SERIES_NUMBER = 9903;

/** The image shown: Part-10 bytes of the source instance and which frame (multi-frame: 1-based). */
export interface SummaryKeyImage {
  bytes: Uint8Array;
  sopClassUid: string;
  sopInstanceUid: string;
  frameNumber?: number;
}

export interface SecondaryCaptureInput {
  study: SourceStudyHeader;
  levels: SummaryLevel[];
  studyProbability: number;
  decision: Decision;
  /** The most suspicious level, named in the banner; its key image is `keyImage`. */
  keyLevel?: DiscLevel;
  keyImage?: SummaryKeyImage;
  algorithm: AlgorithmIdentity;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  seriesNumber?: number;
  instanceNumber?: number;
  contentDateTime: Date;
}

function validate(input: SecondaryCaptureInput): void {
  validateStudy(input.study);
  validateAlgorithm(input.algorithm);
  validateInstance(input);
  assertDate(input.contentDateTime, 'contentDateTime');
  assertProbability(input.studyProbability, 'studyProbability');
  if (input.decision !== 'ldh' && input.decision !== 'healthy') throw new SrInputError('decision', `must be "ldh" or "healthy", got ${JSON.stringify(input.decision)}`);
  input.levels.forEach((l, i) => {
    if (!(DISC_LEVELS as readonly string[]).includes(l.level)) throw new SrInputError(`levels[${i}].level`, `unknown level ${JSON.stringify(l.level)}`);
    assertProbability(l.probability, `levels[${i}].probability`);
  });
  if (input.keyLevel !== undefined && !input.levels.some((l) => l.level === input.keyLevel)) throw new SrInputError('keyLevel', `${input.keyLevel} is not one of the levels`);
  if (input.keyImage) {
    assertUid(input.keyImage.sopInstanceUid, 'keyImage.sopInstanceUid');
    assertUid(input.keyImage.sopClassUid, 'keyImage.sopClassUid');
  }
  assertNewObject(input.sopInstanceUid, input.seriesInstanceUid, []);
}

/** Renders the summary (decoding the key image) without encoding it: for previews and the docs screenshot. */
export async function renderSecondaryCapture(input: SecondaryCaptureInput): Promise<RenderedSummary> {
  validate(input);
  let frame;
  if (input.keyImage) {
    try {
      frame = await decodeFrame(input.keyImage.bytes, (input.keyImage.frameNumber ?? 1) - 1);
    } catch (err) {
      throw new SrInputError('keyImage', `cannot decode ${input.keyImage.sopInstanceUid}: ${(err as Error).message}`);
    }
  }
  const caption = input.keyImage ? `Shown: key image of ${input.keyLevel ?? 'the study'} (SOP Instance ${input.keyImage.sopInstanceUid}${input.keyImage.frameNumber ? `, frame ${input.keyImage.frameNumber}` : ''})` : '';
  return renderSummary({
    ...(frame ? { frame } : {}),
    levels: input.levels,
    studyProbability: input.studyProbability,
    decision: input.decision,
    ...(input.keyLevel ? { keyLevel: input.keyLevel } : {}),
    modelLabel: `${input.algorithm.name} ${input.algorithm.version}`,
    placeholder: input.algorithm.placeholder,
    caption,
  });
}

/** The naturalized SC dataset for already rendered pixels (exported for tests). */
export function secondaryCaptureDataset(input: SecondaryCaptureInput, rendered: RenderedSummary): Record<string, unknown> {
  const when = input.contentDateTime;
  const key = input.keyImage;
  const body: Record<string, unknown> = {
    ...sopCommon(SECONDARY_CAPTURE_SOP_CLASS, input.sopInstanceUid, when),
    ...patientAndStudy(input.study),
    // General Series: SC images have no acquisition modality; OT is what the SC IOD uses.
    Modality: 'OT',
    // Not a paired body part, so no Laterality (General Series Type 2C) is due.
    BodyPartExamined: 'LSPINE',
    SeriesInstanceUID: input.seriesInstanceUid,
    SeriesNumber: input.seriesNumber ?? DEFAULT_SC_SERIES_NUMBER,
    SeriesDescription: input.algorithm.placeholder ? 'AI LDH summary - PLACEHOLDER MODEL' : 'AI LDH summary (research, not for diagnosis)',
    ...equipment(input.algorithm),
    ...contributingEquipment(input.algorithm, when),
    // SC Equipment: rendered by a workstation (software), not digitised from film or video.
    ConversionType: 'WSD',
    // General Image
    InstanceNumber: input.instanceNumber ?? 1,
    PatientOrientation: '',
    ContentDate: dicomDate(when),
    ContentTime: dicomTime(when),
    ImageType: ['DERIVED', 'SECONDARY'],
    DerivationDescription: 'AI triage summary rendered over the key image',
    BurnedInAnnotation: 'YES',
    RecognizableVisualFeatures: 'NO',
    LossyImageCompression: '00',
    ...(key
      ? {
          SourceImageSequence: [
            {
              ReferencedSOPClassUID: key.sopClassUid,
              ReferencedSOPInstanceUID: key.sopInstanceUid,
              ...(key.frameNumber !== undefined ? { ReferencedFrameNumber: key.frameNumber } : {}),
            },
          ],
        }
      : {}),
    // SC Image
    DateOfSecondaryCapture: dicomDate(when),
    TimeOfSecondaryCapture: dicomTime(when),
    // Image Pixel: interleaved RGB, 8 bits.
    SamplesPerPixel: 3,
    PhotometricInterpretation: 'RGB',
    PlanarConfiguration: 0,
    Rows: rendered.height,
    Columns: rendered.width,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
    PixelData: [rendered.rgb.buffer.slice(rendered.rgb.byteOffset, rendered.rgb.byteOffset + rendered.rgb.byteLength)],
    _vrMap: { PixelData: 'OB' },
  };
  // Pixel Data has no text: the charset is decided by the copied attributes only.
  const { PixelData: _pixels, ...text } = body;
  return { ...characterSet(text), ...body };
}

/**
 * Builds the Part-10 Secondary Capture summary. Deterministic for the same input (and sharp
 * build), so a retried report job rewrites the same object under the same UID.
 */
export async function buildSecondaryCapture(input: SecondaryCaptureInput): Promise<{ bytes: Uint8Array; rendered: RenderedSummary }> {
  const rendered = await renderSecondaryCapture(input);
  return { bytes: writePart10(secondaryCaptureDataset(input, rendered)), rendered };
}


