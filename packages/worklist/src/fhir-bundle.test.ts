import type { DiagnosticReport, Observation } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { buildFhirBundle, SYSTEMS } from './fhir-bundle.js';
import { fhirErrors } from './testing/fhir-validator.js';
import { phantomResult } from './testing/phantom-result.js';

describe('FHIR transaction Bundle', () => {
  it('is valid R4: the Bundle and every resource in it (medplum validateResource + R4 definitions)', () => {
    const bundle = buildFhirBundle(phantomResult(), { patientIdentifierSystem: 'urn:oid:1.2.3.4.5' });
    expect(fhirErrors(bundle)).toEqual([]);
    for (const e of bundle.entry!) expect({ type: e.resource!.resourceType, errors: fhirErrors(e.resource!) }).toEqual({ type: e.resource!.resourceType, errors: [] });
    expect(bundle.entry!.map((e) => e.resource!.resourceType)).toEqual(['Device', 'Observation', 'Observation', 'Observation', 'Observation', 'Observation', 'Observation', 'DiagnosticReport']);
  });

  it('DiagnosticReport: preliminary, subject by identifier, imagingStudy by Study Instance UID, conclusion and code, results resolved in the Bundle', () => {
    const r = phantomResult();
    const bundle = buildFhirBundle(r);
    const dr = bundle.entry!.at(-1)!.resource as DiagnosticReport;
    expect(dr.status).toBe('preliminary');
    expect(dr.subject!.identifier!.value).toBe(r.patient.id);
    expect(dr.imagingStudy![0]!.identifier).toEqual({ system: 'urn:dicom:uid', value: `urn:oid:${r.studyInstanceUid}` });
    expect(dr.identifier![0]!.value).toBe(`urn:oid:${r.srSopInstanceUid}`);
    expect(dr.conclusion).toMatch(/suspected at L4-L5, L5-S1.*not for diagnosis/);
    expect(dr.conclusionCode![0]!.coding![0]!.code).toBe('202708005');
    const urls = new Set(bundle.entry!.map((e) => e.fullUrl));
    expect(dr.result!.every((ref) => urls.has(ref.reference))).toBe(true);
  });

  it('one Observation per finding and per level with the disc as bodySite, the certainty as a UCUM %, the Device as device', () => {
    const bundle = buildFhirBundle(phantomResult());
    const obs = bundle.entry!.filter((e) => e.resource!.resourceType === 'Observation').map((e) => e.resource as Observation);
    expect(obs.map((o) => o.bodySite!.coding![0]!.code)).toEqual(['122496007', '80064006', '67459009', '62551000', '84020006', '715056000']);
    expect(obs.map((o) => o.component![0]!.valueQuantity!.value)).toEqual([91, 12, 8, 21, 91, 64]);
    expect(obs.map((o) => o.valueCodeableConcept!.coding![0]!.code)).toEqual(['52101004', '272519000', '272519000', '272519000', '52101004', '52101004']);
    expect(obs.every((o) => o.status === 'preliminary' && o.code.coding![0]!.system === SYSTEMS.sct)).toBe(true);
    const device = bundle.entry![0]!;
    expect(obs.every((o) => o.device!.reference === device.fullUrl)).toBe(true);
  });

  it('every entry is a conditional create on a stable identifier: the same report gives the same Bundle', () => {
    const a = buildFhirBundle(phantomResult());
    const b = buildFhirBundle(phantomResult({ deliveryId: '11111111-2222-4333-8444-555555555555' }));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    for (const e of a.entry!) {
      const id = (e.resource as { identifier?: Array<{ system?: string; value?: string }> }).identifier![0]!;
      expect(e.request).toEqual({ method: 'POST', url: e.resource!.resourceType, ifNoneExist: `identifier=${encodeURIComponent(`${id.system}|${id.value}`)}` });
    }
    expect(new Set(a.entry!.map((e) => e.request!.ifNoneExist)).size).toBe(a.entry!.length);
  });

  it('without per-level results: one Observation; a negative study has no conclusionCode', () => {
    const r = phantomResult({ levels: false });
    r.finding = { probability: 0.2, threshold: 0.5, positive: false };
    const bundle = buildFhirBundle(r);
    expect(fhirErrors(bundle)).toEqual([]);
    expect(bundle.entry!.filter((e) => e.resource!.resourceType === 'Observation')).toHaveLength(1);
    const dr = bundle.entry!.at(-1)!.resource as DiagnosticReport;
    expect(dr.conclusionCode).toBeUndefined();
    expect(dr.conclusion).toMatch(/not suspected/);
  });

  it('the validator is real: it rejects a broken resource', () => {
    expect(fhirErrors({ resourceType: 'Observation', status: 'bogus', code: {} } as unknown as Observation).length).toBeGreaterThan(0);
  });
});
