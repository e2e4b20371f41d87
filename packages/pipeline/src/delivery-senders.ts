/**
 * One sender per delivery kind, each returning a classified outcome for the outbox:
 * `dicom` (SR and/or KOS over one C-STORE association), `sc` (the report's Secondary Capture,
 * not applicable when the report has none), `hl7` (ORU^R01 over MLLP), `fhir` (a transaction
 * Bundle). Errors never carry patient data: peers' texts are scrubbed, charset/parse errors name
 * the attribute, never its value.
 */
import { readFile } from 'node:fs/promises';
import type { loadDeliveryForSend } from '@ldh/db';
import { CharsetError, classifyStoreError, classifyStoreResults, DicomParseError, storeFiles, type StoreTarget } from '@ldh/dicom';
import { buildFhirBundle, buildOruR01, fhirSettingsSchema, hl7SettingsSchema, phiValues, sendFhirTransaction, sendOru, type WorklistResult } from '@ldh/worklist';
import type { DeliverySchedulerOptions } from './delivery-scheduler.js';
import { loadWorklistResult } from './worklist-input.js';

export type LoadedDelivery = Awaited<ReturnType<typeof loadDeliveryForSend>>;

/** `kind` is a short fixed failure class for metrics labels (StoreFailure.kind for DICOM); never peer text. */
export type KindOutcome = { ok: true } | { ok: false; permanent: boolean; reason: string; status?: number | null; kind?: string } | { notApplicable: string };

async function tlsOptions(d: { tls: boolean; tlsCaPath: string | null; tlsCertPath: string | null; tlsKeyPath: string | null }): Promise<StoreTarget['tls']> {
  if (!d.tls) return undefined;
  const read = async (p: string | null) => (p ? readFile(p) : undefined);
  const [ca, cert, key] = await Promise.all([read(d.tlsCaPath), read(d.tlsCertPath), read(d.tlsKeyPath)]);
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), rejectUnauthorized: true };
}

async function storeKeys(opts: DeliverySchedulerOptions, d: LoadedDelivery, keys: string[]): Promise<KindOutcome> {
  const dest = d.destination;
  if (!dest.aeTitle) return { ok: false, permanent: true, reason: `destination ${dest.name} has no AE title` };
  const peer = `${dest.name} (${dest.aeTitle}@${dest.host}:${dest.port}${dest.tls ? ', TLS' : ''})`;
  try {
    const tls = await tlsOptions(dest);
    const results = await storeFiles(
      { host: dest.host, port: dest.port, callingAeTitle: opts.callingAeTitle, calledAeTitle: dest.aeTitle, timeoutMs: opts.timeoutMs, ...(tls ? { tls } : {}) },
      keys.map((k) => opts.store.pathOf(k)),
    );
    const failure = classifyStoreResults(results, peer);
    return failure ? { ok: false, permanent: failure.permanent, reason: failure.reason, status: failure.status ?? null, kind: failure.kind } : { ok: true };
  } catch (err) {
    const failure = classifyStoreError(err);
    return { ok: false, permanent: failure.permanent, reason: failure.reason, status: failure.status ?? null, kind: failure.kind };
  }
}

/** SR and/or KOS (as the destination chose) in one association, SR first. */
function sendDicom(opts: DeliverySchedulerOptions, d: LoadedDelivery): Promise<KindOutcome> {
  const sends = d.destination.sends;
  const keys = [...(sends.includes('sr') ? [d.report.srStorageKey] : []), ...(sends.includes('kos') && d.report.kosStorageKey ? [d.report.kosStorageKey] : [])];
  if (keys.length === 0) return Promise.resolve({ notApplicable: 'the report has no KOS and the destination takes no SR' });
  return storeKeys(opts, d, keys);
}

/** The Secondary Capture summary, when the report has one (Report.scStorageKey, written by the SC builder). */
function sendSc(opts: DeliverySchedulerOptions, d: LoadedDelivery): Promise<KindOutcome> {
  const key = (d.report as { scStorageKey?: string | null }).scStorageKey;
  if (!key) return Promise.resolve({ notApplicable: 'the report has no Secondary Capture summary' });
  return storeKeys(opts, d, [key]);
}

async function worklistInput(opts: DeliverySchedulerOptions, d: LoadedDelivery): Promise<WorklistResult | KindOutcome> {
  try {
    return await loadWorklistResult(opts.db, opts.store, d.id, opts.manufacturer ?? 'LDH triage research prototype');
  } catch (err) {
    // An unreadable source header fails the same way every time; anything else (a file not yet readable, the DB) is retried.
    if (err instanceof CharsetError || err instanceof DicomParseError) return { ok: false, permanent: true, reason: `source header unreadable: ${err.message}` };
    return { ok: false, permanent: false, reason: `cannot assemble the message: ${(err as Error).message}` };
  }
}

async function sendHl7(opts: DeliverySchedulerOptions, d: LoadedDelivery): Promise<KindOutcome> {
  const parsed = hl7SettingsSchema.safeParse(d.destination.settings ?? {});
  if (!parsed.success) return { ok: false, permanent: true, reason: `destination ${d.destination.name}: bad HL7 settings: ${parsed.error.issues[0]?.message}` };
  const input = await worklistInput(opts, d);
  if (!('deliveryId' in input)) return input;
  const { message, charset } = buildOruR01(input, parsed.data);
  const out = await sendOru({ host: d.destination.host, port: d.destination.port, timeoutMs: parsed.data.timeoutMs ?? opts.timeoutMs }, message, charset.encoding, phiValues(input.patient));
  return out.ok ? { ok: true } : out;
}

async function sendFhir(opts: DeliverySchedulerOptions, d: LoadedDelivery): Promise<KindOutcome> {
  const parsed = fhirSettingsSchema.safeParse(d.destination.settings ?? {});
  if (!parsed.success) return { ok: false, permanent: true, reason: `destination ${d.destination.name}: bad FHIR settings: ${parsed.error.issues[0]?.message}` };
  const s = parsed.data;
  const input = await worklistInput(opts, d);
  if (!('deliveryId' in input)) return input;
  const bundle = buildFhirBundle(input, s.patientIdentifierSystem ? { patientIdentifierSystem: s.patientIdentifierSystem } : {});
  const out = await sendFhirTransaction({ baseUrl: s.baseUrl, tokenFile: s.tokenFile ?? null, clientCredentialsFile: s.clientCredentialsFile ?? null, timeoutMs: s.timeoutMs ?? opts.timeoutMs }, bundle, phiValues(input.patient));
  return out.ok ? { ok: true } : out;
}

export function sendByKind(opts: DeliverySchedulerOptions, d: LoadedDelivery): Promise<KindOutcome> {
  switch (d.kind) {
    case 'dicom':
      return sendDicom(opts, d);
    case 'sc':
      return sendSc(opts, d);
    case 'hl7':
      return sendHl7(opts, d);
    case 'fhir':
      return sendFhir(opts, d);
  }
}
