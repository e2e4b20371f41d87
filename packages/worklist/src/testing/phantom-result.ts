/**
 * Test input: a {@link WorklistResult} whose patient/order attributes come from a phantom study's
 * header (read with @ldh/dicom's charset reader, as the pipeline does). No real patient data.
 */
import { personName, readPart10, str } from '@ldh/dicom';
import { generateStudy, type ProfileName } from '@ldh/phantom';
import type { LevelFinding, WorklistResult } from '../types.js';

export const PHANTOM_LEVELS: LevelFinding[] = [
  { level: 'L1-L2', probability: 0.12, positive: false },
  { level: 'L2-L3', probability: 0.08, positive: false },
  { level: 'L3-L4', probability: 0.21, positive: false },
  { level: 'L4-L5', probability: 0.91, positive: true, sopInstanceUids: ['2.25.1001'] },
  { level: 'L5-S1', probability: 0.64, positive: true },
];

const headers = new Map<string, Uint8Array>();

export function phantomResult(opts: { profile?: ProfileName; levels?: boolean; deliveryId?: string; seed?: number } = {}): WorklistResult {
  const key = `${opts.seed ?? 14}:${opts.profile ?? 'generic'}`;
  let bytes = headers.get(key);
  if (!bytes) {
    // Explicit VR little endian: the header is what matters here, not the profile's compression.
    const study = generateStudy({ seed: opts.seed ?? 14, matrix: 64, transferSyntaxUid: '1.2.840.10008.1.2.1', ...(opts.profile ? { profile: opts.profile } : {}) });
    bytes = study.instances[0]!.bytes;
    headers.set(key, bytes);
  }
  const { dataset, characterSet } = readPart10(bytes, { headerOnly: true });
  const name = personName(dataset, 'PatientName');
  const v = (k: string) => str(dataset, k) || undefined;
  const result: WorklistResult = {
    deliveryId: opts.deliveryId ?? '6f1c0a52-6c43-4d1e-9a0e-2d1f1d0b7e11',
    reportId: '0b8a4f7e-2f0c-4b7b-8d3e-5a7c9e1f2a33',
    reportVersion: 1,
    srSopInstanceUid: '2.25.123456789012345678901234567890',
    studyInstanceUid: v('StudyInstanceUID')!,
    reportedAt: new Date('2026-12-07T09:30:00Z'),
    patient: {},
    study: { specificCharacterSet: [...characterSet] },
    finding: { probability: 0.91, threshold: 0.5, positive: true },
    algorithm: { name: 'LDH-DualAttention', version: '1.0.0', manufacturer: 'LDH triage research prototype', deviceUid: '2.25.98765432109876543210', placeholder: false },
  };
  for (const [k, kw] of [['id', 'PatientID'], ['issuer', 'IssuerOfPatientID'], ['birthDate', 'PatientBirthDate'], ['sex', 'PatientSex']] as const) {
    const val = v(kw);
    if (val) result.patient[k] = val;
  }
  if (name) result.patient.name = name;
  for (const [k, kw] of [['accessionNumber', 'AccessionNumber'], ['studyDate', 'StudyDate'], ['studyTime', 'StudyTime']] as const) {
    const val = v(kw);
    if (val) result.study[k] = val;
  }
  if (opts.levels !== false) result.levels = PHANTOM_LEVELS;
  return result;
}
