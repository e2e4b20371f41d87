/**
 * Header modules shared by the SR and the KOS: Patient and General Study copied from the MR
 * (Type 2 attributes present even when empty), the new series, equipment (the model as
 * Processing Equipment), and the evidence sequence that dciodvfy checks against the tree.
 */
import { CODES } from './codes.js';
import { codeItem } from './content-item.js';
import { dicomDate, dicomDateTime, dicomTime, isAscii, UTC_OFFSET } from './dicom-format.js';
import type { NaturalizedDataset } from './dcmjs.js';
import type { AlgorithmIdentity, SourceImageRef, SourceStudyHeader } from './types.js';

/** Patient (C.7.1.1) and General Study (C.7.2.1) attributes, copied; absent ones written empty. */
export function patientAndStudy(study: SourceStudyHeader): NaturalizedDataset {
  return {
    PatientName: study.patientName ?? '',
    PatientID: study.patientId ?? '',
    PatientBirthDate: study.patientBirthDate ?? '',
    PatientSex: study.patientSex ?? '',
    StudyInstanceUID: study.studyInstanceUid,
    StudyDate: study.studyDate ?? '',
    StudyTime: study.studyTime ?? '',
    ReferringPhysicianName: study.referringPhysicianName ?? '',
    StudyID: study.studyId ?? '',
    AccessionNumber: study.accessionNumber ?? '',
  };
}

/** SOP Common and instance-creation attributes; dates in UTC with an explicit offset. */
export function sopCommon(sopClassUid: string, sopInstanceUid: string, created: Date): NaturalizedDataset {
  return {
    SOPClassUID: sopClassUid,
    SOPInstanceUID: sopInstanceUid,
    InstanceCreationDate: dicomDate(created),
    InstanceCreationTime: dicomTime(created),
    TimezoneOffsetFromUTC: UTC_OFFSET,
  };
}

/** General Equipment: the model is the equipment that made this object. */
export function equipment(algorithm: AlgorithmIdentity): NaturalizedDataset {
  return {
    Manufacturer: algorithm.manufacturer,
    ManufacturerModelName: algorithm.modelName,
    SoftwareVersions: algorithm.softwareVersion,
  };
}

/** Human-readable provenance; says PLACEHOLDER MODEL so nobody mistakes a demo model's output. */
export function contributionDescription(algorithm: AlgorithmIdentity): string {
  const base = `AI triage (not diagnostic): ${algorithm.name} ${algorithm.version}`;
  return algorithm.placeholder ? `${base}; PLACEHOLDER MODEL - output is not a trained result` : base;
}

/**
 * Contributing Equipment Sequence with purpose (109102, DCM, "Processing Equipment"): software
 * that created a new instance (sr-content.md sec. 7). No Device UID inside: dciodvfy warns on it.
 */
export function contributingEquipment(algorithm: AlgorithmIdentity, when: Date): NaturalizedDataset {
  return {
    ContributingEquipmentSequence: [
      {
        PurposeOfReferenceCodeSequence: [codeItem(CODES.processingEquipment)],
        Manufacturer: algorithm.manufacturer,
        ManufacturerModelName: algorithm.modelName,
        SoftwareVersions: algorithm.softwareVersion,
        ContributionDateTime: dicomDateTime(when),
        ContributionDescription: contributionDescription(algorithm),
      },
    ],
  };
}

/**
 * Current Requested Procedure Evidence Sequence: every referenced image, grouped by series, in
 * first-seen order. All images belong to the reported study (the three MR series).
 */
export function evidence(studyInstanceUid: string, images: readonly SourceImageRef[]): NaturalizedDataset {
  const bySeries = new Map<string, SourceImageRef[]>();
  for (const img of images) {
    const list = bySeries.get(img.seriesInstanceUid) ?? [];
    list.push(img);
    bySeries.set(img.seriesInstanceUid, list);
  }
  return {
    CurrentRequestedProcedureEvidenceSequence: [
      {
        StudyInstanceUID: studyInstanceUid,
        ReferencedSeriesSequence: [...bySeries].map(([seriesUid, list]) => ({
          SeriesInstanceUID: seriesUid,
          ReferencedSOPSequence: list.map((img) => ({
            ReferencedSOPClassUID: img.sopClassUid,
            ReferencedSOPInstanceUID: img.sopInstanceUid,
          })),
        })),
      },
    ],
  };
}

/**
 * Specific Character Set for a dataset: dcmjs encodes every text VR as UTF-8, so any non-ASCII
 * string anywhere (nested sequences included) requires "ISO_IR 192"; pure ASCII needs none.
 */
export function characterSet(dataset: unknown): NaturalizedDataset {
  return hasNonAscii(dataset) ? { SpecificCharacterSet: 'ISO_IR 192' } : {};
}

function hasNonAscii(value: unknown): boolean {
  if (typeof value === 'string') return !isAscii(value);
  if (Array.isArray(value)) return value.some(hasNonAscii);
  if (value !== null && typeof value === 'object') return Object.values(value).some(hasNonAscii);
  return false;
}
