/**
 * Part-10 encoding: a naturalized dataset becomes explicit VR little endian bytes with a
 * correct File Meta Information header (dcmjs writes text as UTF-8), and back.
 */
import { readPart10 as readDicomPart10, uidFromName } from '@ldh/dicom';
import { DicomDict, DicomMetaDictionary, type NaturalizedDataset } from './dcmjs.js';
import { SrParseError } from './errors.js';

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** Stable per product, derived from a name so no org root is needed. */
export const IMPLEMENTATION_CLASS_UID = uidFromName('ldh-triage:@ldh/sr:implementation-class');
export const IMPLEMENTATION_VERSION_NAME = 'LDH_SR_0_1';

/** Encodes a naturalized dataset (must hold SOPClassUID and SOPInstanceUID) as a Part-10 file. */
export function writePart10(dataset: NaturalizedDataset): Uint8Array {
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}

/**
 * Decodes Part-10 bytes to a naturalized dataset with @ldh/dicom's charset-aware reader: text
 * at every depth is decoded with the Specific Character Set in force (dcmjs #508 cannot occur).
 */
export function readPart10(bytes: Uint8Array): NaturalizedDataset {
  try {
    return readDicomPart10(bytes).dataset;
  } catch (err) {
    throw new SrParseError(`not a readable DICOM Part-10 file: ${(err as Error).message}`);
  }
}
