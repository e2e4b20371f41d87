import { createHash } from 'node:crypto';
import type { Db, Tx } from './client.js';

/** What the SCP knows about a stored instance (structurally the SCP's ReceivedInstance). */
export interface ReceivedInstanceRecord {
  sopInstanceUid: string;
  sopClassUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  transferSyntaxUid: string;
  sha256: string;
  sizeBytes: number;
  storageKey: string;
  callingAeTitle: string;
  calledAeTitle?: string;
  remoteAddress?: string;
  receivedAt: Date;
  modality?: string;
  seriesDescription?: string;
  seriesNumber?: number;
  instanceNumber?: number;
  imageOrientationPatient?: number[];
  imagePositionPatient?: number[];
  bodyPartExamined?: string;
  rows?: number;
  columns?: number;
  /** Used only to derive patientIdHash; never stored or logged in clear. */
  patientId?: string;
}

export type IngestOutcome = 'stored' | 'duplicate' | 'new-version';

/**
 * Commit one received instance: upsert Study/Series, insert the Instance row, bump the study's
 * quiet-period clock, reopen a processed study, and audit — one transaction, in one round trip
 * (the `ldh_record_instance` SQL function, migration 20261123140000): the SCP answers success
 * only after this resolves (invariant 1), so its latency is ingest's throughput. A resend of
 * identical bytes is 'duplicate' (it still counts as activity for the quiet period); different
 * bytes under a known SOP Instance UID keep both rows, the newest current ('new-version').
 */
export async function recordReceivedInstance(db: Db | Tx, inst: ReceivedInstanceRecord, actor = 'scp'): Promise<IngestOutcome> {
  const patientIdHash = inst.patientId ? createHash('sha256').update(inst.patientId).digest('hex') : null;
  const floats = (v: number[] | undefined): string | null => (v && v.length > 0 ? `{${v.map((x) => String(x)).join(',')}}` : null);
  const rows = await db.$queryRaw<Array<{ outcome: IngestOutcome }>>`
    SELECT ldh_record_instance(
      ${inst.sopInstanceUid}::text, ${inst.sopClassUid}::text, ${inst.studyInstanceUid}::text, ${inst.seriesInstanceUid}::text,
      ${inst.transferSyntaxUid}::text, ${inst.sha256}::text, ${String(inst.sizeBytes)}::bigint, ${inst.storageKey}::text,
      ${inst.callingAeTitle}::text, ${inst.remoteAddress ?? null}::text, ${inst.receivedAt.toISOString()}::timestamp(3),
      ${inst.modality ?? null}::text, ${inst.seriesDescription ?? null}::text, ${inst.seriesNumber ?? null}::integer,
      ${inst.bodyPartExamined ?? null}::text, ${inst.instanceNumber ?? null}::integer,
      ${floats(inst.imagePositionPatient)}::double precision[], ${floats(inst.imageOrientationPatient)}::double precision[],
      ${inst.rows ?? null}::integer, ${inst.columns ?? null}::integer, ${patientIdHash}::text, ${actor}::text
    ) AS outcome`;
  const outcome = rows[0]?.outcome;
  if (outcome !== 'stored' && outcome !== 'duplicate' && outcome !== 'new-version') {
    throw new Error(`ldh_record_instance returned ${String(outcome)}`);
  }
  return outcome;
}
