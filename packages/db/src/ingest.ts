import { createHash } from 'node:crypto';
import type { InstanceIdentity } from '@ldh/dicom';
import type { Db, Tx } from './client.js';

/**
 * What the SCP knows about a stored instance: its identifying tags plus where and how it was
 * stored. Peer details are optional so other producers (tests, imports) can record instances too.
 */
export interface ReceivedInstanceRecord extends InstanceIdentity {
  sha256: string;
  sizeBytes: number;
  storageKey: string;
  callingAeTitle: string;
  calledAeTitle?: string;
  remoteAddress?: string;
  receivedAt: Date;
  /** Used only to derive patientIdHash; never stored or logged in clear. */
  patientId?: string;
}

export type IngestOutcome = 'stored' | 'duplicate' | 'new-version';

/** The per-frame facts as the `frames` column stores them (JSON text), or null for a single-frame image. */
function framesJson(inst: ReceivedInstanceRecord): string | null {
  return inst.frames && inst.frames.length > 0 ? JSON.stringify(inst.frames) : null;
}

/**
 * Commit one received instance: upsert Study/Series, insert the Instance row, bump the study's
 * quiet-period clock, reopen a processed study, and audit — one transaction, in one round trip
 * (the `ldh_record_instance` SQL function, migration 20261123140000): the SCP answers success
 * only after this resolves (invariant 1), so its latency is ingest's throughput. A resend of
 * identical bytes is 'duplicate' (it still counts as activity for the quiet period); different
 * bytes under a known SOP Instance UID keep both rows, the newest current ('new-version').
 * A multi-frame also records its frame count and per-frame facts (migration 20261206130000).
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
      ${inst.rows ?? null}::integer, ${inst.columns ?? null}::integer, ${patientIdHash}::text, ${actor}::text,
      ${inst.numberOfFrames ?? null}::integer, ${framesJson(inst)}::jsonb, ${inst.frameGeometryError ?? null}::text
    ) AS outcome`;
  const outcome = rows[0]?.outcome;
  if (outcome !== 'stored' && outcome !== 'duplicate' && outcome !== 'new-version') {
    throw new Error(`ldh_record_instance returned ${String(outcome)}`);
  }
  return outcome;
}

/** One statement recording a JSON array of instances, in array order ($1 payload, $2 actor). */
const RECORD_BATCH_SQL = `
  SELECT t.i::int AS i, ldh_record_instance(
    x->>'sopInstanceUid', x->>'sopClassUid', x->>'studyInstanceUid', x->>'seriesInstanceUid',
    x->>'transferSyntaxUid', x->>'sha256', (x->>'sizeBytes')::bigint, x->>'storageKey',
    x->>'callingAeTitle', x->>'remoteAddress', (x->>'receivedAt')::timestamp(3),
    x->>'modality', x->>'seriesDescription', (x->>'seriesNumber')::integer,
    x->>'bodyPartExamined', (x->>'instanceNumber')::integer,
    CASE WHEN jsonb_typeof(x->'ipp') = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(x->'ipp')::double precision) END,
    CASE WHEN jsonb_typeof(x->'iop') = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(x->'iop')::double precision) END,
    (x->>'rows')::integer, (x->>'columns')::integer, x->>'patientIdHash', $2::text,
    (x->>'numberOfFrames')::integer, CASE WHEN jsonb_typeof(x->'frames') = 'array' THEN x->'frames' END, x->>'frameGeometryError'
  ) AS outcome
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(x, i)`;

function batchPayload(insts: ReceivedInstanceRecord[]): string {
  return JSON.stringify(
    insts.map((inst) => ({
      sopInstanceUid: inst.sopInstanceUid,
      sopClassUid: inst.sopClassUid,
      studyInstanceUid: inst.studyInstanceUid,
      seriesInstanceUid: inst.seriesInstanceUid,
      transferSyntaxUid: inst.transferSyntaxUid,
      sha256: inst.sha256,
      sizeBytes: String(inst.sizeBytes),
      storageKey: inst.storageKey,
      callingAeTitle: inst.callingAeTitle,
      remoteAddress: inst.remoteAddress ?? null,
      receivedAt: inst.receivedAt.toISOString(),
      modality: inst.modality ?? null,
      seriesDescription: inst.seriesDescription ?? null,
      seriesNumber: inst.seriesNumber ?? null,
      bodyPartExamined: inst.bodyPartExamined ?? null,
      instanceNumber: inst.instanceNumber ?? null,
      ipp: inst.imagePositionPatient?.length ? inst.imagePositionPatient : null,
      iop: inst.imageOrientationPatient?.length ? inst.imageOrientationPatient : null,
      rows: inst.rows ?? null,
      columns: inst.columns ?? null,
      patientIdHash: inst.patientId ? createHash('sha256').update(inst.patientId).digest('hex') : null,
      numberOfFrames: inst.numberOfFrames ?? null,
      frames: inst.frames ?? null,
      frameGeometryError: inst.frameGeometryError ?? null,
    })),
  );
}

function orderedOutcomes(count: number, rows: Array<{ i: number | bigint; outcome: string }>): IngestOutcome[] {
  const outcomes = new Array<IngestOutcome>(count);
  for (const r of rows) outcomes[Number(r.i) - 1] = r.outcome as IngestOutcome;
  for (let k = 0; k < count; k++) {
    const o = outcomes[k];
    if (o !== 'stored' && o !== 'duplicate' && o !== 'new-version') throw new Error(`ldh_record_instance returned ${String(o)} for item ${k}`);
  }
  return outcomes;
}

/**
 * Records several instances in ONE statement and transaction (group commit): concurrent
 * associations of one study would otherwise queue on that study's row lock for a full commit
 * each. Evaluated in array order; callers sort by study to keep lock order stable across
 * processes. Throws if any instance fails (the whole batch is then rolled back).
 */
export async function recordReceivedInstances(db: Db | Tx, insts: ReceivedInstanceRecord[], actor = 'scp'): Promise<IngestOutcome[]> {
  if (insts.length === 0) return [];
  const rows = await db.$queryRawUnsafe<Array<{ i: number; outcome: string }>>(RECORD_BATCH_SQL, batchPayload(insts), actor);
  return orderedOutcomes(insts.length, rows);
}

/** Anything with node-postgres' `query({ name, text, values })` (a Pool or a Client). */
export interface PgQueryable {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Array<{ i: number; outcome: string }> }>;
}

/**
 * {@link recordReceivedInstances} over a plain node-postgres pool: the ingest hot path, where
 * Prisma's per-query overhead (several ms of CPU on two cores) would dominate.
 */
export async function recordReceivedInstancesPg(pool: PgQueryable, insts: ReceivedInstanceRecord[], actor = 'scp'): Promise<IngestOutcome[]> {
  if (insts.length === 0) return [];
  // Named: prepared once per connection, so Postgres skips parsing and planning per batch.
  const { rows } = await pool.query({ name: 'ldh_record_instance_batch', text: RECORD_BATCH_SQL, values: [batchPayload(insts), actor] });
  return orderedOutcomes(insts.length, rows);
}
