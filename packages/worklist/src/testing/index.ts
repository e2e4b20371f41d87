/** Test helpers of @ldh/worklist (import from "@ldh/worklist/testing"; not for production code). */
export { phantomResult, PHANTOM_LEVELS } from './phantom-result.js';
export { fhirErrors, indexR4Definitions } from './fhir-validator.js';
