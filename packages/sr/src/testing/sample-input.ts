/**
 * Synthetic inputs for this package's tests (no real patient data). UIDs derive from fixed
 * names so failures are reproducible; the patient name exercises non-ASCII text on purpose.
 */
import { uidFromName } from '@ldh/dicom';
import { SOP_CLASSES } from '../codes.js';
import type { AlgorithmIdentity, KeyObjectInput, MeasurementReportInput, SourceImageRef } from '../types.js';

const uid = (name: string): string => uidFromName(`ldh-sr-test:${name}`);

export const STUDY_UID = uid('study');

export function sampleImages(): SourceImageRef[] {
  const series = { t1_sag: uid('series-t1'), t2_sag: uid('series-t2'), t2_ax: uid('series-ax') } as const;
  const roles = ['t1_sag', 't2_sag', 't2_sag', 't2_ax'] as const;
  const probs = [0.8, 0.95, 0.9, 0.61];
  return roles.map((role, i) => ({
    sopClassUid: SOP_CLASSES.mrImage,
    sopInstanceUid: uid(`image-${i}`),
    seriesInstanceUid: series[role],
    role,
    probability: probs[i] ?? 0,
    frameOfReferenceUid: role === 't2_ax' ? uid('for-ax') : uid('for-sag'),
  }));
}

/**
 * Source images from Enhanced MR (multi-frame) series: frames 7 and 8 of one T2 sagittal
 * instance, frame 12 of a T2 axial instance, and one single-frame T1 sagittal instance.
 */
export function sampleEnhancedImages(): SourceImageRef[] {
  const t2 = { sopClassUid: SOP_CLASSES.enhancedMrImage, sopInstanceUid: uid('emr-t2-sag'), seriesInstanceUid: uid('emr-series-t2'), role: 't2_sag' as const };
  return [
    { sopClassUid: SOP_CLASSES.mrImage, sopInstanceUid: uid('emr-t1-single'), seriesInstanceUid: uid('emr-series-t1'), role: 't1_sag', probability: 0.7 },
    { ...t2, frameNumber: 7, probability: 0.93 },
    { ...t2, frameNumber: 8, probability: 0.88 },
    { sopClassUid: SOP_CLASSES.enhancedMrImage, sopInstanceUid: uid('emr-t2-ax'), seriesInstanceUid: uid('emr-series-ax'), role: 't2_ax', frameNumber: 12, probability: 0.55 },
  ];
}

export function sampleAlgorithm(overrides: Partial<AlgorithmIdentity> = {}): AlgorithmIdentity {
  return {
    name: 'LDH-DualAttention',
    version: '1.0.0',
    deviceObserverUid: uid('device-1.0.0'),
    manufacturer: 'LDH Triage Project',
    modelName: 'SE-CBAM ResNeXt-50',
    placeholder: false,
    softwareVersion: '0.1.0',
    ...overrides,
  };
}

export function sampleReportInput(overrides: Partial<MeasurementReportInput> = {}): MeasurementReportInput {
  const images = sampleImages();
  return {
    study: {
      studyInstanceUid: STUDY_UID,
      patientName: 'Müller^Jörg',
      patientId: 'PHANTOM-0001',
      patientBirthDate: '19700101',
      patientSex: 'M',
      studyDate: '20261123',
      studyTime: '101500',
      accessionNumber: 'ACC0001',
      referringPhysicianName: 'Referrer^Test',
      studyId: '1',
      specificCharacterSet: 'ISO_IR 192',
    },
    images,
    studyProbability: 0.91,
    threshold: 0.5,
    decision: 'ldh',
    aggregation: 'mean',
    levels: [
      { level: 'L5-S1', probability: 0.64 },
      { level: 'L1-L2', probability: 0.12, sourceSopInstanceUid: images[1]?.sopInstanceUid ?? '' },
      { level: 'L4-L5', probability: 0.91, sourceSopInstanceUid: images[2]?.sopInstanceUid ?? '' },
    ],
    algorithm: sampleAlgorithm(),
    sopInstanceUid: uid('sr-instance'),
    seriesInstanceUid: uid('sr-series'),
    contentDateTime: new Date(Date.UTC(2026, 10, 23, 14, 5, 6, 789)),
    ...overrides,
  };
}

export function sampleKeyObjectInput(overrides: Partial<KeyObjectInput> = {}): KeyObjectInput {
  const images = sampleImages();
  return {
    study: sampleReportInput().study,
    images: images.slice(1, 3),
    description: 'AI: suspected LDH at L4-L5, L5-S1',
    sopInstanceUid: uid('kos-instance'),
    seriesInstanceUid: uid('kos-series'),
    contentDateTime: new Date(Date.UTC(2026, 10, 23, 14, 5, 6, 789)),
    algorithm: sampleAlgorithm(),
    ...overrides,
  };
}
