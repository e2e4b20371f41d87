/**
 * FHIR R4 transaction Bundle for one LDH triage result: the algorithm as a Device, one
 * Observation per finding (the study) and per disc level (bodySite = the CID 7604 disc), and a
 * preliminary DiagnosticReport grouping them. Follows the HL7 "DICOM SR to FHIR Mapping" IG where
 * it applies (a TID 1501 group → an Observation whose code is the finding, value the evaluation,
 * component the certainty NUM, bodySite the Finding Site, derivedFrom the ImagingStudy by Study
 * Instance UID, device the algorithm) and IHE AI Results (algorithm identity as a Device). Every
 * entry is a conditional create on a stable identifier (`ifNoneExist`), so a replay creates
 * nothing twice; the patient and the imaging study are referenced by identifier only.
 */
import { createHash } from 'node:crypto';
import type { Bundle, BundleEntry, CodeableConcept, Coding, DiagnosticReport, Device, Identifier, ImagingStudy, Observation, Patient, Reference, Resource } from '@medplum/fhirtypes';
import { uidFromName } from '@ldh/dicom';
import { CODES, DISC_CODES, type Code } from '@ldh/sr';
import { RESEARCH_NOTICE, type WorklistResult } from './types.js';

export const SYSTEMS = {
  sct: 'http://snomed.info/sct',
  dcm: 'http://dicom.nema.org/resources/ontology/DCM',
  loinc: 'http://loinc.org',
  ucum: 'http://unitsofmeasure.org',
  dicomUid: 'urn:dicom:uid',
  interpretation: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
  obsCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  diagServiceSection: 'http://terminology.hl7.org/CodeSystem/v2-0074',
  identifierType: 'http://terminology.hl7.org/CodeSystem/v2-0203',
} as const;

export interface FhirSettings {
  /** System URI of the patient identifier (e.g. the hospital's MRN namespace); none → value only. */
  patientIdentifierSystem?: string;
}

const coding = (c: Code): Coding => ({ system: c.scheme === 'SCT' ? SYSTEMS.sct : c.scheme === 'DCM' ? SYSTEMS.dcm : c.scheme === 'UCUM' ? SYSTEMS.ucum : `urn:ldh:${c.scheme}`, code: c.value, display: c.meaning });
const concept = (c: Code): CodeableConcept => ({ coding: [coding(c)], text: c.meaning });
const uidIdentifier = (uid: string): Identifier => ({ system: SYSTEMS.dicomUid, value: `urn:oid:${uid}` });

/** A urn:uuid fullUrl derived from a name (stable across replays). */
function urnUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function isoDateTime(date?: string, time?: string): string | undefined {
  if (!date || !/^\d{8}$/.test(date)) return undefined;
  const d = `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`;
  const t = (time ?? '').replace(/\..*$/, '');
  if (!/^\d{6}$/.test(t)) return d;
  return `${d}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}Z`;
}

function conditional<T extends Resource>(fullUrl: string, resource: T, identifier: Identifier): BundleEntry {
  return {
    fullUrl,
    resource,
    request: { method: 'POST', url: resource.resourceType, ifNoneExist: `identifier=${encodeURIComponent(`${identifier.system}|${identifier.value}`)}` },
  };
}

/** Builds the transaction Bundle (deterministic for a given report). */
export function buildFhirBundle(r: WorklistResult, settings: FhirSettings = {}): Bundle {
  const issued = r.reportedAt.toISOString();
  const effective = isoDateTime(r.study.studyDate, r.study.studyTime) ?? issued;
  const subject: Reference<Patient> = {
    type: 'Patient',
    identifier: {
      type: { coding: [{ system: SYSTEMS.identifierType, code: 'MR' }] },
      ...(settings.patientIdentifierSystem ? { system: settings.patientIdentifierSystem } : {}),
      value: r.patient.id ?? 'unknown',
    },
  };
  const imagingStudy: Reference<ImagingStudy> = { type: 'ImagingStudy', identifier: uidIdentifier(r.studyInstanceUid), display: `Study Instance UID ${r.studyInstanceUid}` };

  const deviceId = uidIdentifier(r.algorithm.deviceUid);
  const deviceUrl = urnUuid(`device:${r.algorithm.deviceUid}`);
  const device: Device = {
    resourceType: 'Device',
    identifier: [deviceId],
    status: 'active',
    manufacturer: r.algorithm.manufacturer,
    deviceName: [{ name: r.algorithm.name, type: 'model-name' }],
    version: [{ value: r.algorithm.version }],
    type: concept(CODES.processingEquipment),
    note: [{ text: `${r.algorithm.placeholder ? '[PLACEHOLDER MODEL] ' : ''}${RESEARCH_NOTICE}` }],
  };

  const observation = (key: string, site: Code, probability: number, positive: boolean, threshold?: number): { url: string; entry: BundleEntry } => {
    const id = uidIdentifier(uidFromName(`ldh-fhir-obs:${r.reportId}:${key}`));
    const url = urnUuid(`obs:${r.reportId}:${key}`);
    const obs: Observation = {
      resourceType: 'Observation',
      identifier: [id],
      status: 'preliminary',
      category: [{ coding: [{ system: SYSTEMS.obsCategory, code: 'imaging', display: 'Imaging' }] }],
      code: concept(CODES.prolapsedLumbarDisc),
      subject,
      effectiveDateTime: effective,
      issued,
      valueCodeableConcept: concept(positive ? CODES.present : CODES.absent),
      interpretation: [{ coding: [{ system: SYSTEMS.interpretation, code: positive ? 'A' : 'N', display: positive ? 'Abnormal' : 'Normal' }] }],
      bodySite: concept(site),
      method: { text: `${r.algorithm.name} ${r.algorithm.version}${threshold !== undefined ? `, threshold ${threshold}` : ''}` },
      device: { reference: deviceUrl, type: 'Device' },
      derivedFrom: [imagingStudy],
      component: [
        {
          code: concept(CODES.certaintyOfFinding),
          valueQuantity: { value: Math.round(probability * 1000) / 10, unit: '%', system: SYSTEMS.ucum, code: '%' },
        },
      ],
      note: [{ text: RESEARCH_NOTICE }],
    };
    return { url, entry: conditional(url, obs, id) };
  };

  const observations = [
    observation('study', CODES.lumbarSpine, r.finding.probability, r.finding.positive, r.finding.threshold),
    ...(r.levels ?? []).map((l) => observation(l.level, DISC_CODES[l.level], l.probability, l.positive)),
  ];

  const positiveLevels = (r.levels ?? []).filter((l) => l.positive).map((l) => l.level);
  const conclusion = `AI triage: lumbar disc herniation ${r.finding.positive ? 'suspected' : 'not suspected'}${positiveLevels.length > 0 ? ` at ${positiveLevels.join(', ')}` : ''}, score ${(r.finding.probability * 100).toFixed(1)}% — ${r.algorithm.placeholder ? '[PLACEHOLDER MODEL] ' : ''}${RESEARCH_NOTICE}`;
  const reportId = uidIdentifier(r.srSopInstanceUid);
  const reportUrl = urnUuid(`report:${r.reportId}`);
  const diagnosticReport: DiagnosticReport = {
    resourceType: 'DiagnosticReport',
    identifier: [reportId],
    status: 'preliminary',
    category: [{ coding: [{ system: SYSTEMS.diagServiceSection, code: 'RAD', display: 'Radiology' }] }],
    code: { coding: [{ system: SYSTEMS.loinc, code: '18748-4', display: 'Diagnostic imaging study' }], text: 'AI triage: lumbar disc herniation' },
    subject,
    effectiveDateTime: effective,
    issued,
    result: observations.map((o) => ({ reference: o.url, type: 'Observation' })),
    imagingStudy: [imagingStudy],
    conclusion,
    ...(r.finding.positive ? { conclusionCode: [concept(CODES.prolapsedLumbarDisc)] } : {}),
  };

  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [conditional(deviceUrl, device, deviceId), ...observations.map((o) => o.entry), conditional(reportUrl, diagnosticReport, reportId)],
  };
}
