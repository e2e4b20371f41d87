/**
 * `ldh doctor` against a real Postgres and Redis: a settled study whose route job Redis lost
 * (its key prefix deleted, as a FLUSHDB would) is listed; --fix re-creates and dispatches its job.
 * A delivering study with no delivery left to send is listed and settled by --fix; a receiving
 * one far past the quiet period is reported only; delivery_failed is terminal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createScratchDatabase, type Db } from '@ldh/db';
import { markStudySettled } from '@ldh/db';
import { createRedis } from '@ldh/queue';
import { newUid } from '@ldh/dicom';
import { runDoctor } from './doctor.js';

const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.LDH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `ldh-doctor-test-${process.pid}-${Date.now()}`;

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
const redis = createRedis(redisUrl);

beforeAll(async () => {
  scratch = await createScratchDatabase(adminUrl);
  db = createDb(scratch.url);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await db?.$disconnect();
  await scratch?.drop();
});

describe('ldh doctor', () => {
  it('lists a study stuck without a job, and --fix re-creates its job in BullMQ', async () => {
    const old = new Date(Date.now() - 120_000);
    const study = await db.study.create({ data: { studyInstanceUid: newUid(), firstInstanceAt: old, lastInstanceAt: old, instanceCount: 1 } });
    expect(await markStudySettled(db, { studyId: study.id, studyInstanceUid: study.studyInstanceUid, revision: 0, priority: 0 }, 15_000, 'test')).toBe(true);
    // The intent was written but never reached Redis, and was marked dispatched (Redis then flushed).
    await db.jobIntent.updateMany({ where: { studyId: study.id }, data: { state: 'dispatched', jobId: `route-${study.id}-0` } });
    await db.$executeRaw`UPDATE "Study" SET "updatedAt" = now() - interval '1 minute' WHERE id = ${study.id}::uuid`;
    const env = { DATABASE_URL: scratch.url, REDIS_URL: redisUrl, LDH_QUEUE_PREFIX: prefix };

    const check = await runDoctor(env, { fix: false, json: false });
    expect(check.found.map((f) => [f.studyInstanceUid, f.state, f.problem])).toEqual([[study.studyInstanceUid, 'settled', 'job-lost']]);
    expect(check.output).toContain('ldh doctor --fix');

    const fixed = await runDoctor(env, { fix: true, json: true });
    expect(JSON.parse(fixed.output)).toMatchObject([{ studyInstanceUid: study.studyInstanceUid, action: 'intent-rearmed' }]);
    const intent = await db.jobIntent.findFirstOrThrow({ where: { studyId: study.id } });
    expect([intent.state, intent.jobId]).toEqual(['dispatched', `route-${study.id}-0-a1`]);
    expect(await redis.exists(`${prefix}:study-route:route-${study.id}-0-a1`)).toBe(1);
    expect((await runDoctor(env, { fix: false, json: false })).found).toEqual([]);
  });
});

describe('ldh doctor: delivering and receiving studies', () => {
  /** A study in `delivering` with a report whose deliveries are in the given states (destinations by name; created as needed). */
  async function deliveringStudy(deliveries: Array<{ destination: string; state: 'pending' | 'delivered' | 'dead' }>) {
    const old = new Date(Date.now() - 120_000);
    const study = await db.study.create({ data: { studyInstanceUid: newUid(), state: 'delivering', firstInstanceAt: old, lastInstanceAt: old, instanceCount: 1 } });
    const model = await db.modelVersion.upsert({ where: { name_version_sha256: { name: 'm', version: '0', sha256: '0'.repeat(64) } }, create: { name: 'm', version: '0', sha256: '0'.repeat(64), card: {} }, update: {} });
    const run = await db.inferenceRun.create({ data: { studyId: study.id, modelVersionId: model.id, idempotencyKey: newUid(), inputHash: 'x', state: 'succeeded', attempts: 1 } });
    const report = await db.report.create({ data: { studyId: study.id, inferenceRunId: run.id, srSopInstanceUid: newUid(), srSeriesInstanceUid: newUid(), srStorageKey: 'sr', srSha256: 'x', version: 1 } });
    for (const d of deliveries) {
      const dest = await db.destination.upsert({ where: { name: d.destination }, create: { name: d.destination, aeTitle: 'PACS', host: '127.0.0.1', port: 104 }, update: {} });
      await db.delivery.create({ data: { reportId: report.id, destinationId: dest.id, state: d.state, attempts: d.state === 'pending' ? 0 : 1, ...(d.state === 'dead' ? { lastError: 'association rejected permanently' } : {}) } });
    }
    await db.$executeRaw`UPDATE "Study" SET "updatedAt" = now() - interval '1 minute' WHERE id = ${study.id}::uuid`;
    return study;
  }

  it('a delivering study with no delivery left to send is listed and settled by --fix (done / delivery_failed); one still sending and a delivery_failed one are not; a receiving study far past the quiet period is reported only', async () => {
    const env = { DATABASE_URL: scratch.url, REDIS_URL: redisUrl, LDH_QUEUE_PREFIX: prefix, LDH_QUIET_PERIOD_MS: '1000' };
    // Delivered to A; the row for B stays pending, but B was removed from the configuration: nothing will settle the study.
    const parked = await deliveringStudy([{ destination: 'doctor-a', state: 'delivered' }, { destination: 'doctor-b', state: 'pending' }]);
    await db.destination.update({ where: { name: 'doctor-b' }, data: { enabled: false } });
    // A dead delivery whose settle was missed.
    const dead = await deliveringStudy([{ destination: 'doctor-a', state: 'dead' }]);
    // Still being delivered (pending to an enabled destination): the outbox is on it.
    const moving = await deliveringStudy([{ destination: 'doctor-a', state: 'pending' }]);
    const terminal = await deliveringStudy([{ destination: 'doctor-a', state: 'dead' }]);
    await db.study.update({ where: { id: terminal.id }, data: { state: 'delivery_failed' } });
    const longAgo = new Date(Date.now() - 20_000);
    const quiet = await db.study.create({ data: { studyInstanceUid: newUid(), firstInstanceAt: longAgo, lastInstanceAt: longAgo, instanceCount: 1 } });
    const recent = new Date(Date.now() - 2_000);
    const due = await db.study.create({ data: { studyInstanceUid: newUid(), firstInstanceAt: recent, lastInstanceAt: recent, instanceCount: 1 } });

    const check = await runDoctor(env, { fix: false, json: false });
    const byUid = new Map(check.found.map((f) => [f.studyInstanceUid, f]));
    expect(byUid.get(parked.studyInstanceUid)).toMatchObject({ state: 'delivering', stage: 'delivery', problem: 'deliveries-finished', intentId: null });
    expect(byUid.get(parked.studyInstanceUid)!.detail).toContain('1 delivered, 0 dead; not sent to disabled doctor-b');
    expect(byUid.get(dead.studyInstanceUid)).toMatchObject({ state: 'delivering', problem: 'deliveries-finished' });
    expect(byUid.get(quiet.studyInstanceUid)).toMatchObject({ state: 'receiving', stage: 'settle', problem: 'not-settling' });
    for (const s of [moving, terminal, due]) expect(byUid.has(s.studyInstanceUid)).toBe(false);
    expect(check.output).toContain('not settling');

    const fixed = await runDoctor(env, { fix: true, json: true });
    const actions = new Map((JSON.parse(fixed.output) as Array<{ studyInstanceUid: string; action: string }>).map((f) => [f.studyInstanceUid, f.action]));
    expect([actions.get(parked.studyInstanceUid), actions.get(dead.studyInstanceUid), actions.get(quiet.studyInstanceUid)]).toEqual(['study-settled', 'study-settled', 'none']);
    const state = async (id: string) => (await db.study.findUniqueOrThrow({ where: { id } })).state;
    expect([await state(parked.id), await state(dead.id), await state(moving.id), await state(terminal.id), await state(quiet.id)]).toEqual(['done', 'delivery_failed', 'delivering', 'delivery_failed', 'receiving']);
    const after = await runDoctor(env, { fix: false, json: false });
    expect(after.found.map((f) => f.studyInstanceUid)).toEqual([quiet.studyInstanceUid]);
  });
});
