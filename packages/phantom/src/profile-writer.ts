import type { DicomDataset } from 'dcmjs';
import { personNameText, textCodec } from './charset.js';
import type { TextCodec } from './charset.js';
import { ds } from './mr-writer.js';
import type { MrImageExtras, StudyHeader } from './mr-writer.js';
import { writeFile10 } from './part10.js';
import type { RawText } from './part10.js';
import type { SeriesKind, SequenceDef, VendorProfile } from './profiles/types.js';
import { encodeFrame, lossyCompression, SECONDARY_CAPTURE_IMAGE_STORAGE } from './transfer-syntax.js';

/** The contrast agent of the post-contrast series (macrocyclic gadolinium agent, as a site types it). */
export const CONTRAST_AGENT = 'GADOBUTROL 1.0 MMOL/ML';

/** Text attributes of a profile in its character set: PatientName (all groups), InstitutionName, StudyDescription. */
export function profileRawText(profile: VendorProfile, codec: TextCodec = textCodec(profile.charset)): RawText[] {
  return [
    { tag: '00100010', vr: 'PN', bytes: codec.encode(personNameText(profile.patientName)) },
    { tag: '00080080', vr: 'LO', bytes: codec.encode(profile.institutionName) },
    { tag: '00081030', vr: 'LO', bytes: codec.encode(profile.studyDescription) },
  ];
}

/** ImageType of a series of a profile. */
export function imageTypeOf(profile: VendorProfile, kind: SeriesKind): string[] {
  if (kind === 'mpr') return ['DERIVED', 'SECONDARY', 'REFORMATTED'];
  if (kind === 'localizer') return profile.localizerImageType;
  return profile.imageType;
}

/** Lossy Image Compression attributes for a lossy transfer syntax (PS3.3 C.7.6.1.1.5). */
export function lossyElements(tsUid: string): Array<[string, string, unknown[]]> {
  const lossy = lossyCompression(tsUid);
  if (!lossy) return [];
  return [
    ['00282110', 'CS', ['01']],
    ['00282112', 'DS', [ds(lossy.ratio)]],
    ['00282114', 'CS', [lossy.method]],
  ];
}

/** What a profile changes in a classic MR Image of one series. */
export function classicExtras(profile: VendorProfile, kind: SeriesKind, seq: SequenceDef, tsUid: string, rawText: RawText[]): MrImageExtras {
  const cs = textCodec(profile.charset).specificCharacterSet;
  const set: NonNullable<MrImageExtras['set']> = [
    ['00080005', 'CS', cs.length ? cs : null],
    ['00080008', 'CS', imageTypeOf(profile, kind)],
    ['00080070', 'LO', [profile.manufacturer]],
    ['00081090', 'LO', [profile.modelName]],
    ['00181020', 'LO', profile.softwareVersions.split('\\')],
    ['00180015', 'CS', profile.bodyPart ? [profile.bodyPart] : []],
    ['00180020', 'CS', seq.scanningSequence],
    ['00180021', 'CS', seq.sequenceVariant],
    ['00180022', 'CS', seq.scanOptions],
    ['00181030', 'LO', [seq.protocolName]],
    ...lossyElements(tsUid),
  ];
  // Laterality (type 2C) is required when the body part may be paired: dciodvfy asks for it when
  // BodyPartExamined is empty (Hitachi) or not a defined term ('L-SPINE', Canon), and refuses it otherwise.
  if (profile.bodyPart === '' || profile.bodyPart.includes('-')) set.push(['00200060', 'CS', []]);
  if (seq.ti !== undefined) set.push(['00180082', 'DS', [ds(seq.ti)]]);
  if (kind === 't1_sag_post') set.push(['00180010', 'LO', [CONTRAST_AGENT]]);
  if (kind === 'mpr') set.push(['00082111', 'ST', ['sagittal reformat']]);
  return { set, rawText };
}

export interface ScImageSpec {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  seriesNumber: number;
  instanceNumber: number;
  seriesTime: string;
  rows: number;
  cols: number;
  pixels: Uint16Array;
  windowCenter: number;
  windowWidth: number;
}

/**
 * A Secondary Capture Image (the "3D myelogram" screenshot a console exports): no
 * SeriesDescription, no MR acquisition attributes, no patient geometry.
 */
export function encodeSecondaryCapture(profile: VendorProfile, study: StudyHeader, img: ScImageSpec, tsUid: string, rawText: RawText[]): Uint8Array {
  const cs = textCodec(profile.charset).specificCharacterSet;
  const bitsStored = 12;
  const els: Array<[string, string, unknown[]]> = [
    ['00080008', 'CS', ['DERIVED', 'SECONDARY']],
    ['00080016', 'UI', [SECONDARY_CAPTURE_IMAGE_STORAGE]],
    ['00080018', 'UI', [img.sopInstanceUid]],
    ['00080020', 'DA', [study.studyDate]],
    ['00080023', 'DA', [study.studyDate]],
    ['00080030', 'TM', [study.studyTime]],
    ['00080033', 'TM', [img.seriesTime]],
    ['00080050', 'SH', [study.accessionNumber]],
    ['00080060', 'CS', ['MR']],
    ['00080064', 'CS', ['WSD']],
    ['00080070', 'LO', [profile.manufacturer]],
    ['00080090', 'PN', []],
    ['00100020', 'LO', [study.patientId]],
    ['00100030', 'DA', [study.patientBirthDate]],
    ['00100040', 'CS', [study.patientSex]],
    ['0020000D', 'UI', [study.studyInstanceUid]],
    ['0020000E', 'UI', [img.seriesInstanceUid]],
    ['00200010', 'SH', [study.studyId]],
    ['00200011', 'IS', [String(img.seriesNumber)]],
    ['00200013', 'IS', [String(img.instanceNumber)]],
    ['00200020', 'CS', []],
    // No BodyPartExamined: Laterality (type 2C) is present, empty (unknown).
    ['00200060', 'CS', []],
    ['00280002', 'US', [1]],
    ['00280004', 'CS', ['MONOCHROME2']],
    ['00280010', 'US', [img.rows]],
    ['00280011', 'US', [img.cols]],
    ['00280100', 'US', [16]],
    ['00280101', 'US', [bitsStored]],
    ['00280102', 'US', [bitsStored - 1]],
    ['00280103', 'US', [0]],
    ['00281050', 'DS', [ds(img.windowCenter)]],
    ['00281051', 'DS', [ds(img.windowWidth)]],
    ...lossyElements(tsUid),
  ];
  if (cs.length) els.push(['00080005', 'CS', cs]);
  const dict: DicomDataset = {};
  for (const [tag, vr, values] of els) dict[tag] = { vr, Value: values };
  const frame = encodeFrame(tsUid, img.pixels, img.rows, img.cols, bitsStored);
  const pix = frame ?? new Uint8Array(img.pixels.buffer, img.pixels.byteOffset, img.pixels.byteLength);
  dict['7FE00010'] = { vr: frame ? 'OB' : 'OW', Value: [pix.buffer.slice(pix.byteOffset, pix.byteOffset + pix.byteLength)] };
  return writeFile10(dict, SECONDARY_CAPTURE_IMAGE_STORAGE, img.sopInstanceUid, tsUid, rawText);
}
