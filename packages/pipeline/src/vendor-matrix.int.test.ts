/**
 * Issue 11's acceptance matrix: every vendor profile of the phantom (naming, ImageType, character
 * sets, angled axial blocks, Enhanced MR, compressed transfer syntaxes, distractor series) goes
 * through the real jobs — ingest identity, settle, route, infer, report — against a real Postgres
 * and Redis. Routing must give each series the role the profile's routing truth names, inference
 * must decode every transfer syntax, and the SR must carry the source's PatientName groups.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@ldh/config';
import { createDb, createScratchDatabase, recordReceivedInstance, type Db } from '@ldh/db';
import { identifyStoredInstance, personName, readPart10 } from '@ldh/dicom';
import { loadModel, type LoadedModel } from '@ldh/model';
import { generateStudy, loadPhantomCodecs, PROFILE_NAMES, type PhantomStudy } from '@ldh/phantom';
import { createRedis } from '@ldh/queue';
import { describeReport } from '@ldh/sr';
import { createInstanceStore, type InstanceStore } from '@ldh/storage';
import { closePipelineQueues, createPipelineQueues, runInferenceJob, runReportJob, runRouteJob, settleDueStudies, storeBytes, type PipelineDeps, type PipelineQueues } from '@ldh/pipeline';

const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.LDH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const modelCard = path.join(import.meta.dirname, '../../../models/placeholder-v0.json');

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
let store: InstanceStore;
let queues: PipelineQueues;
let redis: ReturnType<typeof createRedis>;
let model: LoadedModel;
let deps: PipelineDeps;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-vendor-matrix-'));

beforeAll(async () => {
  await loadPhantomCodecs();
  scratch = await createScratchDatabase(adminUrl, 'ldh_vendor');
  db = createDb(scratch.url);
  store = await createInstanceStore({ rootDir: tmp, minFreeBytes: 0 });
  redis = createRedis(redisUrl);
  queues = createPipelineQueues({ connection: redis, prefix: `ldh-vendor-test-${process.pid}-${Date.now()}` });
  model = await loadModel(modelCard);
  deps = { db, store, queues, logger: createLogger('test', { level: 'silent' }), actor: 'test' };
});

afterAll(async () => {
  await model?.dispose();
  if (queues) {
    for (const q of Object.values(queues)) await q.queue.obliterate({ force: true });
    await closePipelineQueues(queues);
  }
  redis?.disconnect();
  await db?.$disconnect();
  await scratch?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

async function ingest(study: PhantomStudy): Promise<void> {
  for (const inst of study.instances) {
    const { storageKey, sha256 } = await storeBytes(store, inst.bytes);
    const id = await identifyStoredInstance(store.pathOf(storageKey));
    await recordReceivedInstance(db, { ...id, sha256, sizeBytes: inst.bytes.byteLength, storageKey, callingAeTitle: 'TEST', receivedAt: new Date(Date.now() - 60_000) });
  }
}

/** Runs whatever the route, inference and report queues hold, as the workers would. */
async function drain(): Promise<void> {
  for (;;) {
    let ran = 0;
    for (const job of await queues.route.queue.getJobs(['waiting', 'prioritized'])) {
      await runRouteJob(job.data, deps);
      await job.remove();
      ran++;
    }
    for (const job of await queues.inference.queue.getJobs(['waiting', 'prioritized'])) {
      await runInferenceJob(job.data, { ...deps, model });
      await job.remove();
      ran++;
    }
    for (const job of await queues.report.queue.getJobs(['waiting', 'prioritized'])) {
      await runReportJob(job.data, { ...deps, identity: { manufacturer: 'test', softwareVersion: '0' } });
      await job.remove();
      ran++;
    }
    if (ran === 0) return;
  }
}

describe('vendor profile matrix: routing, decoding and report per profile', () => {
  it.each(PROFILE_NAMES.map((p) => [p]))('%s', async (profile) => {
    const study = generateStudy({ seed: 11, profile, levels: { 'L4-L5': 'extrusion' } });
    await ingest(study);
    expect(await settleDueStudies(deps, 15_000)).toBe(1);
    await drain();

    const row = await db.study.findUniqueOrThrow({
      where: { studyInstanceUid: study.studyInstanceUid },
      include: { series: true, reports: true, inferenceRuns: true },
    });
    const roles = Object.fromEntries(row.series.map((s) => [s.seriesInstanceUid, s.role === 'other' ? null : s.role]));
    const expected = Object.fromEntries(study.series.map((s) => [s.seriesInstanceUid, s.expectedRole]));
    expect({ state: row.state, reason: row.stateReason, roles }).toEqual({ state: 'done', reason: 'no destination configured', roles: expected });

    // Every selected image was decoded (whatever the transfer syntax) and scored.
    const run = row.inferenceRuns[0]!;
    expect(run.state).toBe('succeeded');
    const perImage = run.perImage as Array<{ sopInstanceUid: string; frameNumber?: number }>;
    expect(perImage.length).toBeGreaterThanOrEqual(3);
    const multiFrame = study.instances.some((i) => i.frames > 1);
    expect(perImage.some((p) => p.frameNumber !== undefined)).toBe(multiFrame);

    // The SR names the patient as the source does: every PN group, decoded from its charset.
    const srBytes = await readFile(store.pathOf(row.reports[0]!.srStorageKey));
    const sr = describeReport(srBytes);
    expect(sr.studyInstanceUid).toBe(study.studyInstanceUid);
    const source = readPart10(study.instances[0]!.bytes, { headerOnly: true }).dataset;
    expect(personName(readPart10(srBytes, { headerOnly: true }).dataset, 'PatientName')).toEqual(personName(source, 'PatientName'));
  });
});
