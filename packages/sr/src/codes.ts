/**
 * Coded concepts used in the LDH report, from sr-content.md (sections 3-7), which records where
 * each was verified. SNOMED CT is written with the current designator SCT, never the deprecated SRT.
 */
import type { DiscLevel } from './types.js';

export interface Code {
  value: string;
  scheme: string;
  meaning: string;
}

const code = (value: string, scheme: string, meaning: string): Code => ({ value, scheme, meaning });

export const CODES = {
  // Document titles and containers
  imagingMeasurementReport: code('126000', 'DCM', 'Imaging Measurement Report'),
  imageLibrary: code('111028', 'DCM', 'Image Library'),
  imageLibraryGroup: code('126200', 'DCM', 'Image Library Group'),
  imagingMeasurements: code('126010', 'DCM', 'Imaging Measurements'),
  measurementGroup: code('125007', 'DCM', 'Measurement Group'),
  ofInterest: code('113000', 'DCM', 'Of Interest'),
  keyObjectDescription: code('113012', 'DCM', 'Key Object Description'),
  // TID 1204 language
  languageOfContent: code('121049', 'DCM', 'Language of Content Item and Descendants'),
  englishUS: code('en-US', 'RFC5646', 'English (United States)'),
  // TID 1002/1004 device observer
  observerType: code('121005', 'DCM', 'Observer Type'),
  device: code('121007', 'DCM', 'Device'),
  deviceObserverUid: code('121012', 'DCM', 'Device Observer UID'),
  deviceObserverName: code('121013', 'DCM', 'Device Observer Name'),
  deviceObserverManufacturer: code('121014', 'DCM', 'Device Observer Manufacturer'),
  deviceObserverModelName: code('121015', 'DCM', 'Device Observer Model Name'),
  // Procedure reported (CID 100)
  procedureReported: code('121058', 'DCM', 'Procedure reported'),
  imagingProcedure: code('363679005', 'SCT', 'Imaging procedure'),
  // Image library descriptors (TID 1601/1602)
  modality: code('121139', 'DCM', 'Modality'),
  magneticResonance: code('MR', 'DCM', 'Magnetic Resonance'),
  frameOfReferenceUid: code('112227', 'DCM', 'Frame of Reference UID'),
  source: code('260753009', 'SCT', 'Source'),
  // TID 1501 rows
  trackingIdentifier: code('112039', 'DCM', 'Tracking Identifier'),
  trackingUniqueIdentifier: code('112040', 'DCM', 'Tracking Unique Identifier'),
  finding: code('121071', 'DCM', 'Finding'),
  findingSite: code('363698007', 'SCT', 'Finding Site'),
  algorithmName: code('111001', 'DCM', 'Algorithm Name'),
  algorithmVersion: code('111003', 'DCM', 'Algorithm Version'),
  algorithmParameters: code('111002', 'DCM', 'Algorithm Parameters'),
  certaintyOfFinding: code('111012', 'DCM', 'Certainty of Finding'),
  sourceOfMeasurement: code('121112', 'DCM', 'Source of Measurement'),
  percent: code('%', 'UCUM', 'Percent'),
  // Finding, site and evaluation values
  prolapsedLumbarDisc: code('202708005', 'SCT', 'Prolapsed lumbar intervertebral disc'),
  lumbarSpine: code('122496007', 'SCT', 'Lumbar spine'),
  present: code('52101004', 'SCT', 'Present'),
  absent: code('272519000', 'SCT', 'Absent'),
  // Header: Contributing Equipment purpose (CID 7005)
  processingEquipment: code('109102', 'DCM', 'Processing Equipment'),
} as const;

/** CID 7604 "Intervertebral Disc": the Finding Site of a per-level group. */
export const DISC_CODES: Readonly<Record<DiscLevel, Code>> = {
  'L1-L2': code('80064006', 'SCT', 'L1/L2 disc'),
  'L2-L3': code('67459009', 'SCT', 'L2/L3 disc'),
  'L3-L4': code('62551000', 'SCT', 'L3/L4 disc'),
  'L4-L5': code('84020006', 'SCT', 'L4/L5 disc'),
  'L5-S1': code('715056000', 'SCT', 'L5/S1 disc'),
};

/** SOP classes written or recognised here. */
export const SOP_CLASSES = {
  comprehensiveSr: '1.2.840.10008.5.1.4.1.1.88.33',
  keyObjectSelection: '1.2.840.10008.5.1.4.1.1.88.59',
  mrImage: '1.2.840.10008.5.1.4.1.1.4',
  enhancedMrImage: '1.2.840.10008.5.1.4.1.1.4.1',
} as const;

/** Template identification: mapping resource DCMR and its UID (PS3.16). */
export const DCMR = { resource: 'DCMR', resourceUid: '1.2.840.10008.8.1.1' } as const;

/** True when two codes denote the same concept (value and scheme; the meaning is display text). */
export function sameCode(a: Code | undefined, b: Code): boolean {
  return a !== undefined && a.value === b.value && a.scheme === b.scheme;
}
