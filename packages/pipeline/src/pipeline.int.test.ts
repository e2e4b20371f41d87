/**
 * The pipeline's jobs run directly (no workers) against a real Postgres, Redis, instance store
 * and the shipped model: the happy path, and invariant 3 — a late instance reopens the study but
 * produces a new SR only when the selected input changed.
 */
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listStudyAudit, upsertDestination, type Db } from '@ldh/db';
import { newUid } from '@ldh/dicom';
import { type LoadedModel } from '@ldh/model';
import { generateStudy, type PhantomInstance } from '@ldh/phantom';
import { describeReport } from '@ldh/sr';
import { type InstanceStore } from '@ldh/storage';
import { readFile } from 'node:fs/promises';
import {
  settleDueStudies,
  type PipelineDeps,
  type PipelineQueues,
} from '@ldh/pipeline';
import { drainAll, ingestBytes, openPipelineHarness, type PipelineHarness } from './testing.js';


let db: Db;
let store: InstanceStore;
let queues: PipelineQueues;
let model: LoadedModel;
let deps: PipelineDeps;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-pipeline-'));

const ingest = (inst: PhantomInstance) => ingestBytes(deps, inst.bytes);
const drain = () => drainAll(deps, model);

let harness: PipelineHarness;
beforeAll(async () => {
  harness = await openPipelineHarness({ rootDir: tmp });
  ({ db, store, queues, model, deps } = harness);
});

afterAll(() => harness?.close());

describe('pipeline jobs', () => {
  const study = generateStudy({ seed: 99, levels: { 'L4-L5': 'extrusion' } });

  it('takes a received study to a stored SR with its outbox rows', async () => {
    await upsertDestination(db, { name: 'pacs', aeTitle: 'PACS', host: '127.0.0.1', port: 1 });
    for (const inst of study.instances) expect(await ingest(inst)).toBe('stored');
    expect(await settleDueStudies(deps, 15_000)).toBe(1);
    await drain();
    const row = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: study.studyInstanceUid }, include: { reports: { include: { deliveries: true } } } });
    expect(row.state).toBe('delivering');
    expect(row.reports).toHaveLength(1);
    expect(row.reports[0]!.deliveries.map((d) => d.state)).toEqual(['pending']);
    const sr = describeReport(await readFile(store.pathOf(row.reports[0]!.srStorageKey)));
    expect(sr.studyInstanceUid).toBe(study.studyInstanceUid);
    expect(sr.placeholder).toBe(true);
    expect(sr.imageCount).toBeGreaterThan(3);
    // The outbox row is the delivery intent (the writer's scheduler polls Postgres): no BullMQ job.
    expect(await queues.delivery.queue.getWaitingCount()).toBe(0);
  });

  it('ignores an identical resend, and a late unselected instance does not produce a second SR', async () => {
    expect(await ingest(study.instances[0]!)).toBe('duplicate');
    // A late localizer in a new series: the study reopens, but the model's input is unchanged.
    const base = study.instances.find((i) => i.role === 't2_ax')!;
    const { dataset } = await import('@ldh/dicom').then((m) => m.readPart10(base.bytes));
    expect(dataset.StudyInstanceUID).toBe(study.studyInstanceUid);
    const late = { ...base, seriesInstanceUid: newUid(), sopInstanceUid: newUid(), bytes: relabel(base.bytes, base, { series: newUid(), sop: newUid(), description: 'LOCALIZER' }) };
    expect(await ingest(late)).toBe('stored');
    const reopened = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: study.studyInstanceUid } });
    expect([reopened.state, reopened.revision]).toEqual(['receiving', 1]);
    expect(await settleDueStudies(deps, 0, new Date(Date.now() + 1))).toBe(1);
    await drain();
    const row = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: study.studyInstanceUid }, include: { reports: true, inferenceRuns: true } });
    // The existing report was never delivered (its PACS is unreachable): the study waits for
    // that delivery again instead of claiming `done` (done only with a delivered report).
    expect(row.state).toBe('delivering');
    expect(row.reports).toHaveLength(1);
    expect(row.inferenceRuns).toHaveLength(1);
    const actions = (await listStudyAudit(db, study.studyInstanceUid)).map((a) => a.action);
    expect(actions).toContain('study.reopened');
    expect(actions).toContain('inference.unchanged');
  });
});

/** Copy of a phantom instance as a new series/instance (re-encoded with dcmjs). */
function relabel(bytes: Uint8Array, _inst: PhantomInstance, ids: { series: string; sop: string; description: string }): Uint8Array {
  const dcmjs = createRequire(import.meta.url)('dcmjs') as {
    data: {
      DicomMessage: { readFile(b: ArrayBuffer): { meta: Record<string, { Value: unknown[] }>; dict: Record<string, { Value: unknown[] }>; write(): ArrayBuffer } };
    };
  };
  const d = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  d.dict['0020000E']!.Value = [ids.series];
  d.dict['00080018']!.Value = [ids.sop];
  d.dict['0008103E']!.Value = [ids.description];
  d.meta['00020003']!.Value = [ids.sop];
  return new Uint8Array(d.write());
}
