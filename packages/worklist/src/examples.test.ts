/**
 * The synthetic examples in docs/examples (an ORU^R01 and a FHIR transaction Bundle) are built
 * here from phantom data with the production builders, and must match the committed files.
 * Regenerate with: LDH_WRITE_EXAMPLES=1 npx vitest run --project unit packages/worklist/src/examples.test.ts
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFhirBundle } from './fhir-bundle.js';
import { buildOruR01 } from './oru.js';
import { fhirErrors } from './testing/fhir-validator.js';
import { phantomResult } from './testing/phantom-result.js';

const dir = path.join(import.meta.dirname, '../../../docs/examples');
const write = process.env.LDH_WRITE_EXAMPLES === '1';

function check(file: string, content: string) {
  const p = path.join(dir, file);
  if (write) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(p, content);
  }
  expect(readFileSync(p, 'utf8')).toBe(content);
}

describe('docs/examples', () => {
  const r = phantomResult();

  it('oru-r01.hl7 is the builder output for the phantom result (segments one per line; CR on the wire)', () => {
    const { message } = buildOruR01(r, { sendingApplication: 'LDH', sendingFacility: 'RADIOLOGY', receivingApplication: 'RIS', receivingFacility: 'HOSPITAL', priorityHint: 'obx' });
    check('oru-r01.hl7', `${message.toString().split('\r').join('\n')}\n`);
  });

  it('fhir-bundle.json is the builder output for the phantom result, valid R4', () => {
    const bundle = buildFhirBundle(r, { patientIdentifierSystem: 'urn:oid:2.25.1234567890' });
    expect(fhirErrors(bundle)).toEqual([]);
    check('fhir-bundle.json', `${JSON.stringify(bundle, null, 2)}\n`);
  });
});
