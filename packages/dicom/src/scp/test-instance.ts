import { createRequire } from 'node:module';
import { newUid } from '../uid.js';

interface DcmjsWriter {
  data: {
    DicomDict: new (meta: Record<string, unknown>) => { dict: Record<string, unknown>; write(opts?: Record<string, unknown>): ArrayBuffer };
    DicomMetaDictionary: { denaturalizeDataset(ds: Record<string, unknown>): Record<string, unknown> };
  };
}
const require = createRequire(import.meta.url);
const dcmjs = require('dcmjs') as DcmjsWriter;

/** Options of {@link buildTestMrInstance}. */
export interface TestMrInstanceOptions {
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  instanceNumber?: number;
  rows?: number;
  columns?: number;
  /** Synthetic name; tests check it never reaches a log. */
  patientName?: string;
}

/**
 * A small synthetic MR Image Storage Part-10 file (explicit VR LE, 16-bit noise pixels, one
 * private element) for SCP tests and benchmarks: no real patient data, no external fixture.
 */
export function buildTestMrInstance(opts: TestMrInstanceOptions = {}): Buffer {
  const rows = opts.rows ?? 64;
  const columns = opts.columns ?? 64;
  const sopInstanceUid = opts.sopInstanceUid ?? newUid();
  const pixels = new Uint16Array(rows * columns);
  let seed = (opts.instanceNumber ?? 1) * 2654435761;
  for (let i = 0; i < pixels.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    pixels[i] = (seed >>> 20) & 0x0fff;
  }
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: '1.2.840.10008.5.1.4.1.1.4',
    MediaStorageSOPInstanceUID: sopInstanceUid,
    TransferSyntaxUID: '1.2.840.10008.1.2.1',
    ImplementationClassUID: '1.2.826.0.1.3680043.10.854',
  };
  const dataset: Record<string, unknown> = {
    SpecificCharacterSet: 'ISO_IR 100',
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.4',
    SOPInstanceUID: sopInstanceUid,
    StudyInstanceUID: opts.studyInstanceUid ?? newUid(),
    SeriesInstanceUID: opts.seriesInstanceUid ?? newUid(),
    Modality: 'MR',
    PatientName: opts.patientName ?? 'SYNTHETIC^TEST',
    PatientID: 'SYN-0001',
    StudyDate: '20260101',
    SeriesDescription: 'T2 SAG',
    SeriesNumber: '3',
    InstanceNumber: String(opts.instanceNumber ?? 1),
    BodyPartExamined: 'LSPINE',
    ImageOrientationPatient: [0, 1, 0, 0, 0, -1],
    ImagePositionPatient: [-10, -100, 100],
    PixelSpacing: [0.5, 0.5],
    SliceThickness: '4',
    Rows: rows,
    Columns: columns,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    BitsAllocated: 16,
    BitsStored: 12,
    HighBit: 11,
    PixelRepresentation: 0,
    PixelData: pixels.buffer,
    _vrMap: { PixelData: 'OW' },
  };
  const dict = new dcmjs.data.DicomDict(dcmjs.data.DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
  // A private block: byte-identical storage must keep it.
  dict.dict['00091010'] = { vr: 'LO', Value: ['LDH PRIVATE'] };
  dict.dict['00091000'] = { vr: 'LO', Value: ['LDH TEST CREATOR'] };
  return Buffer.from(dict.write());
}
