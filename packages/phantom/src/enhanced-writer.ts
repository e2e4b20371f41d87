import { uidFromName } from '@ldh/dicom';
import type { DicomDataset } from 'dcmjs';
import { textCodec } from './charset.js';
import { ds } from './mr-writer.js';
import type { SeriesHeader, StudyHeader } from './mr-writer.js';
import { writeFile10 } from './part10.js';
import type { RawText } from './part10.js';
import { imageTypeOf, lossyElements } from './profile-writer.js';
import type { SeriesKind, SequenceDef, VendorProfile } from './profiles/types.js';
import { ENHANCED_MR_IMAGE_STORAGE, encodeFrame } from './transfer-syntax.js';

/** One frame of an Enhanced MR instance: its plane, its stack and its pixels. */
export interface EnhancedFrame {
  imagePositionPatient: [number, number, number];
  imageOrientationPatient: [number, number, number, number, number, number];
  /** Stack (one per axial block or localizer plane), 1-based, and the position in it, 1-based. */
  stackId: number;
  inStackPosition: number;
  pixels: Uint16Array;
}

export interface EnhancedSeriesSpec {
  sopInstanceUid: string;
  rows: number;
  cols: number;
  pixelSpacing: number;
  sliceThickness: number;
  spacingBetweenSlices: number;
  acquisitionDateTime: string;
  frames: EnhancedFrame[];
}

type Item = DicomDataset;
const el = (vr: string, values: unknown[]): { vr: string; Value: unknown[] } => ({ vr, Value: values });
const sq = (...items: Item[]): { vr: string; Value: unknown[] } => ({ vr: 'SQ', Value: items });

function contrastOf(kind: SeriesKind): string {
  if (kind === 't1_sag' || kind === 't1_sag_post') return 'T1';
  return 'T2';
}

/** MR Image Frame Type / ImageType value 3 (image flavor, PS3.3 C.8.16.1.3) and 4 (derived pixel contrast). */
function imageTypeEnhanced(profile: VendorProfile, kind: SeriesKind): string[] {
  const base = imageTypeOf(profile, kind);
  const flavor = kind === 'localizer' ? 'LOCALIZER' : kind === 't1_sag_post' ? 'POST_CONTRAST' : 'VOLUME';
  return [base[0] ?? 'ORIGINAL', base[1] ?? 'PRIMARY', flavor, 'NONE'];
}

/**
 * Encodes one series as a single Enhanced MR Image (PS3.3 A.36.2): Shared Functional Groups
 * (pixel measures, frame anatomy, pixel value transformation, frame VOI LUT, MR image frame
 * type, timing, echo, FOV/geometry, modifiers, coils, averages, diffusion) and Per-Frame
 * Functional Groups (frame content with stack and in-stack position, plane position, plane
 * orientation — per frame, because an axial series has three differently angled blocks), with
 * a two-level dimension index (StackID, InStackPositionNumber).
 */
export function encodeEnhancedMr(
  profile: VendorProfile,
  study: StudyHeader,
  series: SeriesHeader,
  seq: SequenceDef,
  kind: SeriesKind,
  spec: EnhancedSeriesSpec,
  tsUid: string,
  rawText: RawText[],
): Uint8Array {
  const bitsStored = 12;
  const cs = textCodec(profile.charset).specificCharacterSet;
  const imageType = imageTypeEnhanced(profile, kind);
  const ir = seq.ti !== undefined;
  const gradientEcho = seq.scanningSequence.includes('GR');
  const dimUid = uidFromName(`${spec.sopInstanceUid}:dimension-organization`);
  const frameType = imageType;

  const shared: Item = {
    '00189006': sq({
      '00189020': el('CS', ['NONE']),
      '00189022': el('CS', ['NO']),
      '00189028': el('CS', ['NONE']),
      '00180095': el('DS', [ds(series.pixelBandwidth)]),
      '00189098': el('FD', [63.87 * (study.fieldStrength / 1.5)]),
    }),
    '00189042': sq({ '00181250': el('SH', ['Spine']), '00189041': el('LO', [profile.manufacturer]), '00189043': el('CS', ['SURFACE']), '00189044': el('CS', ['NO']) }),
    '00189049': sq({ '00181251': el('SH', ['Body']), '00189050': el('LO', [profile.manufacturer]), '00189051': el('CS', ['BODY']) }),
    '00189112': sq({
      '00180080': el('DS', [ds(series.repetitionTime)]),
      '00181314': el('DS', [ds(series.flipAngle)]),
      '00180091': el('IS', [String(series.echoTrainLength)]),
      '00189240': el('US', [gradientEcho ? 0 : series.echoTrainLength]),
      '00189241': el('US', [gradientEcho ? 1 : 0]),
      '00189239': sq({ '00189179': el('CS', ['IEC_WHOLE_BODY']), '00189181': el('FD', [1.2]) }),
      '00189176': sq(
        { '00189177': el('CS', ['STATIC FIELD']), '00189178': el('CS', ['IEC_NORMAL']) },
        { '00189177': el('CS', ['RF']), '00189178': el('CS', ['IEC_NORMAL']) },
        { '00189177': el('CS', ['GRADIENT']), '00189178': el('CS', ['IEC_NORMAL']) },
      ),
      '00189180': el('CS', ['DB_DT']),
      '00189182': el('FD', [45]),
    }),
    '00189114': sq({ '00189082': el('FD', [series.echoTime]) }),
    '00189115': sq({
      '00189009': el('CS', [ir ? 'YES' : 'NO']),
      ...(ir ? { '00189079': el('FD', [seq.ti]) } : {}),
      '00189010': el('CS', ['NONE']),
      '00189021': el('CS', ['NO']),
      '00189026': el('CS', ['NONE']),
      '00189027': el('CS', ['NONE']),
      '00189081': el('CS', ['NO']),
      '00189077': el('CS', ['NO']),
    }),
    '00189117': sq({ '00189075': el('CS', ['NONE']) }),
    '00189119': sq({ '00180083': el('DS', [ds(series.numberOfAverages)]) }),
    '00189125': sq({
      '00181312': el('CS', [series.phaseEncodingDirection === 'COL' ? 'COLUMN' : 'ROW']),
      '00189058': el('US', [series.phaseEncodingDirection === 'COL' ? spec.cols : spec.rows]),
      '00189231': el('US', [series.phaseEncodingDirection === 'COL' ? spec.rows : spec.cols]),
      '00180093': el('DS', ['100']),
      '00180094': el('DS', ['100']),
    }),
    '00189226': sq({
      '00089007': el('CS', frameType),
      '00089205': el('CS', ['MONOCHROME']),
      '00089206': el('CS', ['VOLUME']),
      '00089207': el('CS', ['NONE']),
      '00089208': el('CS', ['MAGNITUDE']),
      '00089209': el('CS', [contrastOf(kind)]),
    }),
    '00209071': sq({
      '00082218': sq({ '00080100': el('SH', ['122496007']), '00080102': el('SH', ['SCT']), '00080104': el('LO', ['Lumbar spine']) }),
      '00209072': el('CS', ['U']),
    }),
    '00289110': sq({
      '00280030': el('DS', [ds(spec.pixelSpacing), ds(spec.pixelSpacing)]),
      '00180050': el('DS', [ds(spec.sliceThickness)]),
      '00180088': el('DS', [ds(spec.spacingBetweenSlices)]),
    }),
    '00289132': sq({ '00281050': el('DS', [ds(series.windowCenter)]), '00281051': el('DS', [ds(series.windowWidth)]) }),
    '00289145': sq({ '00281052': el('DS', ['0']), '00281053': el('DS', ['1']), '00281054': el('LO', ['US']) }),
  };

  const perFrame: Item[] = spec.frames.map((f) => ({
    '00209111': sq({
      '00189074': el('DT', [spec.acquisitionDateTime]),
      '00189151': el('DT', [spec.acquisitionDateTime]),
      '00189220': el('FD', [1000]),
      '00209056': el('SH', [String(f.stackId)]),
      '00209057': el('UL', [f.inStackPosition]),
      '00209157': el('UL', [f.stackId, f.inStackPosition]),
    }),
    '00209113': sq({ '00200032': el('DS', f.imagePositionPatient.map(ds)) }),
    '00209116': sq({ '00200037': el('DS', f.imageOrientationPatient.map(ds)) }),
  }));

  const dict: DicomDataset = {
    '00080008': el('CS', imageType),
    '00080012': el('DA', [study.studyDate]),
    '00080013': el('TM', [study.studyTime]),
    '00080016': el('UI', [ENHANCED_MR_IMAGE_STORAGE]),
    '00080018': el('UI', [spec.sopInstanceUid]),
    '00080020': el('DA', [study.studyDate]),
    '00080021': el('DA', [study.studyDate]),
    '00080023': el('DA', [study.studyDate]),
    '0008002A': el('DT', [spec.acquisitionDateTime]),
    '00080030': el('TM', [study.studyTime]),
    '00080031': el('TM', [series.seriesTime]),
    '00080033': el('TM', [series.seriesTime]),
    '00080050': el('SH', [study.accessionNumber]),
    '00080060': el('CS', ['MR']),
    '00080070': el('LO', [profile.manufacturer]),
    '00080090': el('PN', []),
    '00081010': el('SH', [study.stationName]),
    '0008103E': el('LO', [series.seriesDescription]),
    '00081090': el('LO', [profile.modelName]),
    '00100020': el('LO', [study.patientId]),
    '00100030': el('DA', [study.patientBirthDate]),
    '00100040': el('CS', [study.patientSex]),
    '00101010': el('AS', [study.patientAge]),
    '00101030': el('DS', [ds(study.patientWeightKg)]),
    '00180015': el('CS', profile.bodyPart ? [profile.bodyPart] : []),
    '00180023': el('CS', ['2D']),
    '00180087': el('DS', [ds(study.fieldStrength)]),
    '00181000': el('LO', [study.deviceSerialNumber]),
    '00181020': el('LO', profile.softwareVersions.split('\\')),
    '00181030': el('LO', [seq.protocolName]),
    '00185100': el('CS', ['HFS']),
    '00189004': el('CS', ['PRODUCT']),
    '00189005': el('SH', [seq.sequenceName]),
    '00189008': el('CS', [gradientEcho ? 'GRADIENT' : 'SPIN']),
    ...(gradientEcho ? {} : { '00189011': el('CS', ['YES']) }),
    '00189012': el('CS', ['NO']),
    '00189014': el('CS', ['NO']),
    '00189015': el('CS', ['NO']),
    '00189017': el('CS', ['NONE']),
    '00189018': el('CS', ['NO']),
    '00189024': el('CS', ['NO']),
    '00189025': el('CS', ['NONE']),
    '00189029': el('CS', ['NONE']),
    '00189032': el('CS', ['RECTILINEAR']),
    '00189033': el('CS', ['PARTIAL']),
    '00189034': el('CS', ['LINEAR']),
    '00189093': el('US', [1]),
    '00189174': el('CS', ['IEC']),
    '00189064': el('CS', ['NONE']),
    '00189073': el('FD', [120]),
    '00189100': el('CS', ['1H']),
    '00089205': el('CS', ['MONOCHROME']),
    '00089206': el('CS', ['VOLUME']),
    '00089207': el('CS', ['NONE']),
    '00089208': el('CS', ['MAGNITUDE']),
    '00089209': el('CS', [contrastOf(kind)]),
    '0020000D': el('UI', [study.studyInstanceUid]),
    '0020000E': el('UI', [series.seriesInstanceUid]),
    '00200010': el('SH', [study.studyId]),
    '00200011': el('IS', [String(series.seriesNumber)]),
    '00200013': el('IS', ['1']),
    '00200052': el('UI', [study.frameOfReferenceUid]),
    '00201040': el('LO', []),
    '00209221': sq({ '00209164': el('UI', [dimUid]) }),
    '00209222': sq(
      { '00209164': el('UI', [dimUid]), '00209165': el('AT', [0x00209056]), '00209167': el('AT', [0x00209111]), '00209421': el('LO', ['Stack ID']) },
      { '00209164': el('UI', [dimUid]), '00209165': el('AT', [0x00209057]), '00209167': el('AT', [0x00209111]), '00209421': el('LO', ['In-Stack Position Number']) },
    ),
    '00280002': el('US', [1]),
    '00280004': el('CS', ['MONOCHROME2']),
    '00280008': el('IS', [String(spec.frames.length)]),
    '00280010': el('US', [spec.rows]),
    '00280011': el('US', [spec.cols]),
    '00280100': el('US', [16]),
    '00280101': el('US', [bitsStored]),
    '00280102': el('US', [bitsStored - 1]),
    '00280103': el('US', [0]),
    '00280301': el('CS', ['NO']),
    '00282110': el('CS', ['00']),
    '00400555': sq(),
    '20500020': el('CS', ['IDENTITY']),
    '52009229': sq(shared),
    '52009230': sq(...perFrame),
  };
  for (const [tag, vr, values] of lossyElements(tsUid)) dict[tag] = el(vr, values);
  if (cs.length) dict['00080005'] = el('CS', cs);

  const encoded = spec.frames.map((f) => encodeFrame(tsUid, f.pixels, spec.rows, spec.cols, bitsStored));
  if (encoded.every((e): e is Uint8Array => e !== undefined)) {
    dict['7FE00010'] = el('OB', encoded.map((e) => e.buffer.slice(e.byteOffset, e.byteOffset + e.byteLength)));
  } else {
    const all = new Uint16Array(spec.rows * spec.cols * spec.frames.length);
    spec.frames.forEach((f, k) => all.set(f.pixels, k * spec.rows * spec.cols));
    dict['7FE00010'] = el('OW', [all.buffer]);
  }
  return writeFile10(dict, ENHANCED_MR_IMAGE_STORAGE, spec.sopInstanceUid, tsUid, rawText);
}
