/**
 * `@ldh/worklist`: the worklist channels of a report — HL7 v2.5.1 ORU^R01 over MLLP
 * (@medplum/hl7) and a FHIR R4 transaction Bundle (@medplum/fhirtypes, sent with fetch) — as pure
 * builders plus senders that classify the peer's answer for the delivery outbox.
 */
export { buildOruR01, LOCAL_CODES, type BuiltOru, type Hl7Settings, type PriorityHint } from './oru.js';
export { sendOru, describeAck, type MllpTarget } from './mllp.js';
export { buildFhirBundle, SYSTEMS, type FhirSettings } from './fhir-bundle.js';
export { sendFhirTransaction, outcomeText, type FhirTarget } from './fhir-client.js';
export { hl7Escape, messageCharset, messageControlId, personNameXpn } from './hl7-text.js';
export { scrub, phiValues } from './scrub.js';
export { WorklistError, WorklistConfigError } from './errors.js';
export { RESEARCH_NOTICE, type WorklistResult, type LevelFinding, type SendOutcome } from './types.js';
export { hl7SettingsSchema, fhirSettingsSchema, type Hl7DestinationSettings, type FhirDestinationSettings } from './settings.js';
