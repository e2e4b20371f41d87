import { createRequire } from 'node:module';
import { ENHANCED_MR_IMAGE_STORAGE } from '../enhanced.js';
import { newUid } from '../uid.js';

interface DcmjsWriter {
  data: {
    DicomDict: new (meta: Record<string, unknown>) => { dict: Record<string, unknown>; write(opts?: Record<string, unknown>): ArrayBuffer };
    DicomMetaDictionary: { denaturalizeDataset(ds: Record<string, unknown>): Record<string, unknown> };
  };
}
const require = createRequire(import.meta.url);
const dcmjs = require('dcmjs') as DcmjsWriter;

/** Options of {@link buildTestEnhancedMrInstance}. */
export interface TestEnhancedMrOptions {
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  frames?: number;
  rows?: number;
  columns?: number;
  /** Stacks of frames, each with its own orientation (e.g. separately angled axial blocks); default one sagittal stack. */
  stacks?: Array<{ orientation: number[]; first: number[]; step: number[] }>;
  /** Where the shared macros go: 'shared' (the usual) or 'per-frame' (every frame repeats them). */
  macros?: 'shared' | 'per-frame';
  /** Implicit VR little endian or explicit VR big endian instead of explicit VR little endian. */
  transferSyntaxUid?: '1.2.840.10008.1.2' | '1.2.840.10008.1.2.1' | '1.2.840.10008.1.2.2';
  /** Drop the per-frame sequence's last item (a contradiction the reader must name). */
  dropLastFrameItem?: boolean;
}

/** Frame `k` (0-based) of the stacks: stacks take turns, frames of one stack go along its step. */
function framePlacement(stacks: NonNullable<TestEnhancedMrOptions['stacks']>, frames: number, k: number) {
  const per = Math.ceil(frames / stacks.length);
  const s = Math.floor(k / per);
  const stack = stacks[s] as (typeof stacks)[number];
  const j = k - s * per;
  return { stackId: String(s + 1), inStack: j + 1, iop: stack.orientation, ipp: stack.first.map((x, i) => Math.round((x + j * (stack.step[i] as number)) * 1e4) / 1e4) };
}

/**
 * A synthetic Enhanced MR Image Storage Part-10 file (multi-frame, functional groups, 16-bit
 * native pixels; by default explicit VR little endian) for tests: no real patient data. Frame
 * `k` has ImagePositionPatient `first + j·step` of its stack and every pixel equal to
 * `100 + k` (so a decoder test can tell the frames apart).
 */
export function buildTestEnhancedMrInstance(opts: TestEnhancedMrOptions = {}): Buffer {
  const frames = opts.frames ?? 5;
  const rows = opts.rows ?? 32;
  const columns = opts.columns ?? 32;
  const ts = opts.transferSyntaxUid ?? '1.2.840.10008.1.2.1';
  const stacks = opts.stacks ?? [{ orientation: [0, 1, 0, 0, 0, -1], first: [-20, -100, 80], step: [4, 0, 0] }];
  const sopInstanceUid = opts.sopInstanceUid ?? newUid();
  const pixels = new Uint16Array(rows * columns * frames);
  for (let k = 0; k < frames; k++) pixels.fill(100 + k, k * rows * columns, (k + 1) * rows * columns);
  const pixelMeasures = [{ PixelSpacing: [0.75, 0.75], SliceThickness: 4 }];
  const timing = [{ RepetitionTime: 3000, FlipAngle: 90, EchoTrainLength: 17, RFEchoTrainLength: 17, GradientEchoTrainLength: 0 }];
  const frameType = [{ FrameType: ['ORIGINAL', 'PRIMARY', 'M', 'NONE'], PixelPresentation: 'MONOCHROME', VolumetricProperties: 'VOLUME', VolumeBasedCalculationTechnique: 'NONE', ComplexImageComponent: 'MAGNITUDE', AcquisitionContrast: 'T2' }];
  const transform = [{ RescaleIntercept: 0, RescaleSlope: 1, RescaleType: 'US' }];
  const sharedMacros = {
    PixelMeasuresSequence: pixelMeasures,
    MRTimingAndRelatedParametersSequence: timing,
    MRImageFrameTypeSequence: frameType,
    PixelValueTransformationSequence: transform,
  };
  const perFrame = Array.from({ length: frames }, (_, k) => {
    const p = framePlacement(stacks, frames, k);
    return {
      FrameContentSequence: [{ StackID: p.stackId, InStackPositionNumber: p.inStack, DimensionIndexValues: [Number(p.stackId), p.inStack] }],
      PlanePositionSequence: [{ ImagePositionPatient: p.ipp }],
      PlaneOrientationSequence: [{ ImageOrientationPatient: p.iop }],
      MREchoSequence: [{ EffectiveEchoTime: 90 + k / 10 }],
      ...(opts.macros === 'per-frame' ? sharedMacros : {}),
    };
  });
  if (opts.dropLastFrameItem) perFrame.pop();
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: ENHANCED_MR_IMAGE_STORAGE,
    MediaStorageSOPInstanceUID: sopInstanceUid,
    TransferSyntaxUID: ts,
    ImplementationClassUID: '1.2.826.0.1.3680043.10.854',
  };
  const dataset: Record<string, unknown> = {
    SpecificCharacterSet: 'ISO_IR 100',
    ImageType: ['ORIGINAL', 'PRIMARY', 'M', 'NONE'],
    SOPClassUID: ENHANCED_MR_IMAGE_STORAGE,
    SOPInstanceUID: sopInstanceUid,
    StudyInstanceUID: opts.studyInstanceUid ?? newUid(),
    SeriesInstanceUID: opts.seriesInstanceUid ?? newUid(),
    FrameOfReferenceUID: newUid(),
    Modality: 'MR',
    PatientName: 'SYNTHETIC^ENHANCED',
    PatientID: 'SYN-0002',
    StudyDate: '20260101',
    SeriesDescription: 'T2W_TSE_SAG',
    SeriesNumber: '401',
    InstanceNumber: '1',
    BodyPartExamined: 'LSPINE',
    NumberOfFrames: String(frames),
    Rows: rows,
    Columns: columns,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    BitsAllocated: 16,
    BitsStored: 12,
    HighBit: 11,
    PixelRepresentation: 0,
    SharedFunctionalGroupsSequence: [opts.macros === 'per-frame' ? {} : sharedMacros],
    PerFrameFunctionalGroupsSequence: perFrame,
    PixelData: pixels.buffer,
    _vrMap: { PixelData: 'OW' },
  };
  const dict = new dcmjs.data.DicomDict(dcmjs.data.DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
  return Buffer.from(dict.write());
}
