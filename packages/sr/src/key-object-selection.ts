/**
 * TID 2010 Key Object Selection titled (113000, DCM, "Of Interest"): the IHE Key Image Note that
 * viewers show as flagged images. Never a rejection title (113001, 113037-113039): archives act
 * on those by hiding or deleting the referenced images (sr-content.md sec. 6).
 */
import { CODES, SOP_CLASSES } from './codes.js';
import { container, distinctInstances, image, text } from './content-item.js';
import { dicomDate, dicomTime } from './dicom-format.js';
import { characterSet, contributingEquipment, equipment, evidence, patientAndStudy, sopCommon } from './header.js';
import { languageAndObserver } from './observer-context.js';
import { writePart10 } from './part10.js';
import { DEFAULT_KOS_SERIES_NUMBER, type KeyObjectInput, type SourceImageRef } from './types.js';
import { assertNewObject, assertText, validateAlgorithm, validateImages, validateInstance, validateStudy } from './validate-input.js';

/** Builds the Part-10 KOS flagging `images` with a free-text description. */
export function buildKeyObjectSelection(input: KeyObjectInput): Uint8Array {
  return writePart10(keyObjectSelectionDataset(input));
}

/** The naturalized dataset behind {@link buildKeyObjectSelection} (exported for tree tests). */
export function keyObjectSelectionDataset(input: KeyObjectInput): Record<string, unknown> {
  validateStudy(input.study);
  validateImages(input.images);
  validateAlgorithm(input.algorithm);
  validateInstance(input);
  assertText(input.description, 'description', 1024);
  assertNewObject(input.sopInstanceUid, input.seriesInstanceUid, input.images);
  const when = input.contentDateTime;

  const root = container(
    undefined,
    CODES.ofInterest,
    [
      ...languageAndObserver(input.algorithm),
      text('CONTAINS', CODES.keyObjectDescription, input.description),
      // Referenced items in a KOS carry no concept name (PixelMed: "forbidden"). Key frames of one
      // multi-frame instance go in one item listing them (Referenced Frame Number, 1-n).
      ...keyImageRefs(input.images).map((ref) => image('CONTAINS', undefined, ref)),
    ],
    '2010',
  );

  const body: Record<string, unknown> = {
    ...sopCommon(SOP_CLASSES.keyObjectSelection, input.sopInstanceUid, when),
    ...patientAndStudy(input.study),
    // Key Object Document Series
    Modality: 'KO',
    SeriesInstanceUID: input.seriesInstanceUid,
    SeriesNumber: input.seriesNumber ?? DEFAULT_KOS_SERIES_NUMBER,
    SeriesDescription: input.algorithm.placeholder ? 'AI LDH key images - PLACEHOLDER MODEL' : 'AI LDH key images',
    ReferencedPerformedProcedureStepSequence: [],
    ...equipment(input.algorithm),
    ...contributingEquipment(input.algorithm, when),
    // Key Object Document
    InstanceNumber: input.instanceNumber ?? 1,
    ContentDate: dicomDate(when),
    ContentTime: dicomTime(when),
    ...evidence(input.study.studyInstanceUid, distinctInstances(input.images)),
    ...root,
  };
  return { ...characterSet(body), ...body };
}

/**
 * One reference per instance, first-seen order; the frames chosen of a multi-frame instance are
 * listed in it, ascending. An instance referenced both whole and by frame is referenced whole.
 */
export function keyImageRefs(images: readonly SourceImageRef[]): Array<{ sopClassUid: string; sopInstanceUid: string; frameNumbers?: number[] }> {
  const byUid = new Map<string, { sopClassUid: string; sopInstanceUid: string; frames: Set<number>; whole: boolean }>();
  for (const img of images) {
    const entry = byUid.get(img.sopInstanceUid) ?? { sopClassUid: img.sopClassUid, sopInstanceUid: img.sopInstanceUid, frames: new Set<number>(), whole: false };
    if (img.frameNumber === undefined) entry.whole = true;
    else entry.frames.add(img.frameNumber);
    byUid.set(img.sopInstanceUid, entry);
  }
  return [...byUid.values()].map((e) =>
    e.whole || e.frames.size === 0
      ? { sopClassUid: e.sopClassUid, sopInstanceUid: e.sopInstanceUid }
      : { sopClassUid: e.sopClassUid, sopInstanceUid: e.sopInstanceUid, frameNumbers: [...e.frames].sort((a, b) => a - b) },
  );
}
