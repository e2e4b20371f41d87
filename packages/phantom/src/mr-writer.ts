import type { DicomDataset } from 'dcmjs';
import { writeFile10 } from './part10.js';
import type { RawText } from './part10.js';
import { encodeFrame, MR_IMAGE_STORAGE } from './transfer-syntax.js';

/** Identity and context shared by every instance of a study. */
export interface StudyHeader {
  studyInstanceUid: string;
  frameOfReferenceUid: string;
  patientName: string;
  patientId: string;
  patientBirthDate: string;
  patientSex: 'M' | 'F';
  patientAge: string;
  patientWeightKg: number;
  studyDate: string;
  studyTime: string;
  accessionNumber: string;
  studyId: string;
  fieldStrength: number;
  stationName: string;
  deviceSerialNumber: string;
}

/** What differs between the three series of a study. */
export interface SeriesHeader {
  seriesInstanceUid: string;
  seriesNumber: number;
  seriesDescription: string;
  seriesTime: string;
  repetitionTime: number;
  echoTime: number;
  echoTrainLength: number;
  flipAngle: number;
  pixelBandwidth: number;
  sequenceName: string;
  phaseEncodingDirection: 'ROW' | 'COL';
  windowCenter: number;
  windowWidth: number;
  numberOfAverages: number;
}

/** One slice: geometry and pixels. */
export interface InstanceSpec {
  sopInstanceUid: string;
  instanceNumber: number;
  rows: number;
  cols: number;
  /** [row spacing, column spacing] in mm (DICOM order). */
  pixelSpacing: [number, number];
  imagePositionPatient: [number, number, number];
  imageOrientationPatient: [number, number, number, number, number, number];
  sliceThickness: number;
  spacingBetweenSlices: number;
  sliceLocation: number;
  acquisitionTime: string;
  pixels: Uint16Array;
}

export { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from './part10.js';

type El = [string, string, unknown[]];

/**
 * What a vendor profile changes in an MR image: the SOP class, elements added, replaced or (null)
 * removed, and text values written as raw bytes of the profile's character set.
 */
export interface MrImageExtras {
  sopClassUid?: string;
  set?: Array<[string, string, unknown[] | null]>;
  rawText?: RawText[];
}

/** Decimal string ≤ 16 characters (DS). */
export function ds(v: number): string {
  const r = Math.round(v * 1e6) / 1e6;
  let s = String(r);
  if (s.length > 16) s = r.toPrecision(10).replace(/\.?0+$/, '');
  return s;
}

/**
 * Encodes one MR Image Storage instance as a Part-10 file in the requested transfer syntax.
 * The dataset is built in dcmjs's tag-keyed form directly (no name lookups), because a
 * training set needs thousands of instances and the naturalised path is the slow part.
 */
export function encodeMrImage(study: StudyHeader, series: SeriesHeader, inst: InstanceSpec, transferSyntaxUid: string, extras?: MrImageExtras): Uint8Array {
  const sopClassUid = extras?.sopClassUid ?? MR_IMAGE_STORAGE;
  const bitsStored = 12;
  const els: El[] = [
    ['00080005', 'CS', ['ISO_IR 100']],
    ['00080008', 'CS', ['ORIGINAL', 'PRIMARY', 'OTHER']],
    ['00080012', 'DA', [study.studyDate]],
    ['00080013', 'TM', [study.studyTime]],
    ['00080016', 'UI', [sopClassUid]],
    ['00080018', 'UI', [inst.sopInstanceUid]],
    ['00080020', 'DA', [study.studyDate]],
    ['00080021', 'DA', [study.studyDate]],
    ['00080022', 'DA', [study.studyDate]],
    ['00080023', 'DA', [study.studyDate]],
    ['00080030', 'TM', [study.studyTime]],
    ['00080031', 'TM', [series.seriesTime]],
    ['00080032', 'TM', [inst.acquisitionTime]],
    ['00080033', 'TM', [inst.acquisitionTime]],
    ['00080050', 'SH', [study.accessionNumber]],
    ['00080060', 'CS', ['MR']],
    ['00080070', 'LO', ['LDH Phantom']],
    ['00080080', 'LO', ['SYNTHETIC PHANTOM SITE']],
    ['00080090', 'PN', []],
    ['00081010', 'SH', [study.stationName]],
    ['00081030', 'LO', ['LSPINE^ROUTINE']],
    ['0008103E', 'LO', [series.seriesDescription]],
    ['00081090', 'LO', ['PHANTOM MR']],
    ['00100010', 'PN', [study.patientName]],
    ['00100020', 'LO', [study.patientId]],
    ['00100030', 'DA', [study.patientBirthDate]],
    ['00100040', 'CS', [study.patientSex]],
    ['00101010', 'AS', [study.patientAge]],
    ['00101030', 'DS', [ds(study.patientWeightKg)]],
    ['00180015', 'CS', ['LSPINE']],
    ['00180020', 'CS', ['SE']],
    ['00180021', 'CS', ['SK', 'SP', 'OSP']],
    ['00180022', 'CS', ['PFP']],
    ['00180023', 'CS', ['2D']],
    ['00180024', 'SH', [series.sequenceName]],
    ['00180025', 'CS', ['N']],
    ['00180050', 'DS', [ds(inst.sliceThickness)]],
    ['00180080', 'DS', [ds(series.repetitionTime)]],
    ['00180081', 'DS', [ds(series.echoTime)]],
    ['00180083', 'DS', [ds(series.numberOfAverages)]],
    ['00180084', 'DS', [ds(63.87 * (study.fieldStrength / 1.5))]],
    ['00180085', 'SH', ['1H']],
    ['00180086', 'IS', ['1']],
    ['00180087', 'DS', [ds(study.fieldStrength)]],
    ['00180088', 'DS', [ds(inst.spacingBetweenSlices)]],
    ['00180091', 'IS', [String(series.echoTrainLength)]],
    ['00180095', 'DS', [ds(series.pixelBandwidth)]],
    ['00181000', 'LO', [study.deviceSerialNumber]],
    ['00181020', 'LO', ['phantom 0.1']],
    ['00181030', 'LO', [series.seriesDescription]],
    ['00181250', 'SH', ['Spine']],
    ['00181251', 'SH', ['Body']],
    ['00181310', 'US', series.phaseEncodingDirection === 'ROW' ? [0, inst.cols, inst.rows, 0] : [inst.cols, 0, 0, inst.rows]],
    ['00181312', 'CS', [series.phaseEncodingDirection]],
    ['00181314', 'DS', [ds(series.flipAngle)]],
    ['00185100', 'CS', ['HFS']],
    ['0020000D', 'UI', [study.studyInstanceUid]],
    ['0020000E', 'UI', [series.seriesInstanceUid]],
    ['00200010', 'SH', [study.studyId]],
    ['00200011', 'IS', [String(series.seriesNumber)]],
    ['00200012', 'IS', ['1']],
    ['00200013', 'IS', [String(inst.instanceNumber)]],
    ['00200032', 'DS', inst.imagePositionPatient.map(ds)],
    ['00200037', 'DS', inst.imageOrientationPatient.map(ds)],
    ['00200052', 'UI', [study.frameOfReferenceUid]],
    ['00201040', 'LO', []],
    ['00201041', 'DS', [ds(inst.sliceLocation)]],
    ['00280002', 'US', [1]],
    ['00280004', 'CS', ['MONOCHROME2']],
    ['00280010', 'US', [inst.rows]],
    ['00280011', 'US', [inst.cols]],
    ['00280030', 'DS', inst.pixelSpacing.map(ds)],
    ['00280100', 'US', [16]],
    ['00280101', 'US', [bitsStored]],
    ['00280102', 'US', [bitsStored - 1]],
    ['00280103', 'US', [0]],
    ['00281050', 'DS', [ds(series.windowCenter)]],
    ['00281051', 'DS', [ds(series.windowWidth)]],
  ];
  const dict: DicomDataset = {};
  for (const [tag, vr, values] of els) dict[tag] = { vr, Value: values };
  for (const [tag, vr, values] of extras?.set ?? []) {
    if (values === null) delete dict[tag];
    else dict[tag] = { vr, Value: values };
  }
  const pix = inst.pixels;
  const frame = encodeFrame(transferSyntaxUid, pix, inst.rows, inst.cols, bitsStored);
  if (frame) {
    dict['7FE00010'] = { vr: 'OB', Value: [frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength)] };
  } else {
    dict['7FE00010'] = { vr: 'OW', Value: [pix.buffer.slice(pix.byteOffset, pix.byteOffset + pix.byteLength)] };
  }
  return writeFile10(dict, sopClassUid, inst.sopInstanceUid, transferSyntaxUid, extras?.rawText ?? []);
}
