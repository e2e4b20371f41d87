/**
 * `ldh doctor` against a real Postgres and Redis: a settled study whose route job Redis lost
 * (its key prefix deleted, as a FLUSHDB would) is listed; --fix re-creates and dispatches its job.
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
