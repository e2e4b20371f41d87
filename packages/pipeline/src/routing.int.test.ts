/**
 * Routing and settling against a real Postgres, Redis and instance store, with phantom studies
 * written by the real DICOM writer: the decision is stored and audited, an unreadable header is
 * named in the study's reason (never "missing series"), and a study settles early only once its
 * series hold all three roles.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@ldh/config';
import { createDb, createScratchDatabase, getStudyWithRouting, listStudyAudit, recordReceivedInstance, type Db } from '@ldh/db';
import { identifyStoredInstance, newUid } from '@ldh/dicom';
import { generateStudy, type PhantomInstance, type PhantomStudy } from '@ldh/phantom';
import { createRedis } from '@ldh/queue';
import { createInstanceStore, type InstanceStore } from '@ldh/storage';
import { closePipelineQueues, createPipelineQueues, runRouteJob, settleDueStudies, storeBytes, type EarlySettleMemo, type PipelineDeps, type PipelineQueues } from '@ldh/pipeline';

const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.LDH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
let store: InstanceStore;
let queues: PipelineQueues;
let redis: ReturnType<typeof createRedis>;
let deps: PipelineDeps;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-routing-'));

async function ingest(inst: PhantomInstance, receivedAt: Date): Promise<string> {
  const { storageKey, sha256 } = await storeBytes(store, inst.bytes);
  const id = await identifyStoredInstance(store.pathOf(storageKey));
  await recordReceivedInstance(db, { ...id, sha256, sizeBytes: inst.bytes.byteLength, storageKey, callingAeTitle: 'TEST', receivedAt });
  return storageKey;
}

/** A copy of a phantom instance under a new SOP Instance UID (re-encoded with dcmjs). */
function withNewSopInstanceUid(bytes: Uint8Array): Uint8Array {
  const dcmjs = createRequire(import.meta.url)('dcmjs') as {
    data: { DicomMessage: { readFile(b: ArrayBuffer): { meta: Record<string, { Value: unknown[] }>; dict: Record<string, { Value: unknown[] }>; write(): ArrayBuffer } } };
  };
  const d = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  const sop = newUid();
  d.dict['00080018']!.Value = [sop];
  d.meta['00020003']!.Value = [sop];
  return new Uint8Array(d.write());
}

const small = (seed: number): PhantomStudy => generateStudy({ seed, matrix: 64, sagittalSlices: 11, axialSlicesPerLevel: 3 });

async function studyRow(uid: string) {
  return db.study.findUniqueOrThrow({ where: { studyInstanceUid: uid } });
}

/** Run the route jobs the settler queued for this study. */
async function routeQueued(studyInstanceUid: string) {
  const out = [];
  for (const job of await queues.route.queue.getJobs(['waiting', 'prioritized'])) {
    if (job.data.studyInstanceUid !== studyInstanceUid) continue;
    out.push(await runRouteJob(job.data, deps));
    await job.remove();
  }
  return out;
}

beforeAll(async () => {
  scratch = await createScratchDatabase(adminUrl);
  db = createDb(scratch.url);
  store = await createInstanceStore({ rootDir: tmp, minFreeBytes: 0 });
  redis = createRedis(redisUrl);
  queues = createPipelineQueues({ connection: redis, prefix: `ldh-routing-test-${process.pid}-${Date.now()}` });
  deps = { db, store, queues, logger: createLogger('test', { level: 'silent' }), actor: 'test' };
});

afterAll(async () => {
  if (queues) {
    for (const q of Object.values(queues)) await q.queue.obliterate({ force: true });
    await closePipelineQueues(queues);
  }
  redis?.disconnect();
  await db?.$disconnect();
  await scratch?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('route job', () => {
  it('stores the routing decision and audits it', async () => {
    const study = small(101);
    const old = new Date(Date.now() - 60_000);
    for (const inst of study.instances) await ingest(inst, old);
    expect(await settleDueStudies(deps, 15_000)).toBe(1);
    expect(await routeQueued(study.studyInstanceUid)).toEqual([{ outcome: 'routed' }]);

    const view = await getStudyWithRouting(db, study.studyInstanceUid);
    expect(view?.state).toBe('routed');
    expect(view?.routing).toMatchObject({ revision: 0, verdict: 'route', reason: null });
    const bySeries = new Map(view!.routing!.decision.series.map((v) => [v.seriesInstanceUid, v]));
    for (const role of ['t1_sag', 't2_sag', 't2_ax'] as const) {
      const uid = study.instances.find((i) => i.role === role)!.seriesInstanceUid;
      expect(view!.routing!.decision.roles[role]).toBe(uid);
      const v = bySeries.get(uid)!;
      expect(v).toMatchObject({ role, accepted: true });
      // Description and TR/TE from the header agree: the full weighting evidence is recorded.
      expect(v.reasons.some((r) => r.startsWith('+30 description says'))).toBe(true);
      expect(v.score).toBeGreaterThan(50);
    }
    expect(view!.series.map((s) => s.role).sort()).toEqual(['t1_sag', 't2_ax', 't2_sag']);
    const routed = (await listStudyAudit(db, study.studyInstanceUid)).find((a) => a.action === 'study.routed');
    expect(routed?.details).toMatchObject({ roles: view!.routing!.decision.roles, anatomy: { lumbar: true, source: 'BodyPartExamined' } });
    expect((routed?.details as { series: unknown[] }).series).toHaveLength(3);
  });

  it('fails the study with a reason naming the unreadable header, never "missing series"', async () => {
    const study = small(102);
    const old = new Date(Date.now() - 60_000);
    const keys = new Map<string, string>();
    for (const inst of study.instances) keys.set(inst.sopInstanceUid, await ingest(inst, old));
    // Replace every stored T2 axial file with bytes that are not DICOM (as a broken sender would leave them).
    const axial = study.instances.filter((i) => i.role === 't2_ax');
    for (const inst of axial) await writeFile(store.pathOf(keys.get(inst.sopInstanceUid)!), Buffer.alloc(2048, 0x41));
    const axialUid = axial[0]!.seriesInstanceUid;
    expect(await settleDueStudies(deps, 15_000)).toBe(1);
    const [result] = await routeQueued(study.studyInstanceUid);
    expect(result?.outcome).toBe('failed');

    const row = await studyRow(study.studyInstanceUid);
    expect(row.state).toBe('failed');
    expect(row.stateReason).toMatch(new RegExp(`^cannot read header of series ${axialUid.replace(/\./g, '\\.')}: cannot parse DICOM Part-10 data: `));
    expect(row.stateReason).toContain('routing without it: missing series: t2_ax');
    const failed = (await listStudyAudit(db, study.studyInstanceUid)).find((a) => a.action === 'study.failed');
    expect(failed?.details).toMatchObject({ reason: row.stateReason, headerFailures: [{ seriesInstanceUid: axialUid, error: expect.stringContaining('cannot parse DICOM') }] });
    const view = await getStudyWithRouting(db, study.studyInstanceUid);
    expect(view?.routing).toMatchObject({ verdict: 'failed', reason: row.stateReason });
    expect(view?.routing?.decision.headerFailures.map((f) => f.seriesInstanceUid)).toEqual([axialUid]);
  });
});

describe('completeness by content', () => {
  it('settles early once all three roles are present, and reopens on a late instance', async () => {
    const study = small(103);
    const recent = new Date(Date.now() - 5_000);
    // Sagittal series only: the short quiet period passed, but T2 axial is missing, so it waits.
    const sag = study.instances.filter((i) => i.role !== 't2_ax');
    for (const inst of sag) await ingest(inst, recent);
    const memo: EarlySettleMemo = new Map();
    const periods = { quietPeriodMs: 60_000, earlySettleMs: 3_000 };
    expect(await settleDueStudies(deps, periods, new Date(), memo)).toBe(0);
    expect((await studyRow(study.studyInstanceUid)).state).toBe('receiving');
    expect(memo.size).toBe(1);
    // The axial series arrives; after the short quiet period the content is complete.
    const axialAt = new Date(Date.now() - 4_000);
    for (const inst of study.instances.filter((i) => i.role === 't2_ax')) await ingest(inst, axialAt);
    expect(await settleDueStudies(deps, periods, new Date(axialAt.getTime() + 1_000), memo)).toBe(0);
    expect(await settleDueStudies(deps, periods, new Date(), memo)).toBe(1);
    expect(memo.size).toBe(0);
    const row = await studyRow(study.studyInstanceUid);
    expect(row.state).toBe('settled');
    const settled = (await listStudyAudit(db, study.studyInstanceUid)).find((a) => a.action === 'study.settled');
    expect(settled?.details).toMatchObject({ settledBy: 'content', quietPeriodMs: 3_000, roles: { t2_ax: study.instances.find((i) => i.role === 't2_ax')!.seriesInstanceUid } });
    expect(await routeQueued(study.studyInstanceUid)).toEqual([{ outcome: 'routed' }]);
    // A late instance (a new SOP instance in the T2 sagittal series) reopens the study as before,
    // and the next routing gets its own stored decision.
    const base = study.instances.find((i) => i.role === 't2_sag')!;
    await ingest({ ...base, bytes: withNewSopInstanceUid(base.bytes) }, new Date());
    expect(await studyRow(study.studyInstanceUid)).toMatchObject({ state: 'receiving', revision: 1 });
    expect(await settleDueStudies(deps, periods, new Date(Date.now() + 4_000), memo)).toBe(1);
    expect(await routeQueued(study.studyInstanceUid)).toEqual([{ outcome: 'routed' }]);
    expect((await getStudyWithRouting(db, study.studyInstanceUid))?.routing?.revision).toBe(1);
  });

  it('settles an incomplete study only after the long quiet period', async () => {
    const study = small(104);
    const recent = new Date(Date.now() - 5_000);
    for (const inst of study.instances.filter((i) => i.role !== 't2_ax')) await ingest(inst, recent);
    const periods = { quietPeriodMs: 60_000, earlySettleMs: 3_000 };
    expect(await settleDueStudies(deps, periods)).toBe(0);
    expect(await settleDueStudies(deps, periods, new Date(Date.now() + 56_000))).toBe(1);
    const settled = (await listStudyAudit(db, study.studyInstanceUid)).find((a) => a.action === 'study.settled');
    expect(settled?.details).toMatchObject({ settledBy: 'quiet-period', quietPeriodMs: 60_000 });
    expect(await routeQueued(study.studyInstanceUid)).toEqual([{ outcome: 'skipped', reason: 'missing series: t2_ax' }]);
  });
});
