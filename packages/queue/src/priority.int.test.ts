/**
 * A STAT study overtakes a queue of routine ones: real BullMQ worker, real Redis (private prefix).
 * Priorities come from bullmqPriority(Study.priority), where Study.priority is higher = more urgent.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { bullmqPriority, ContractQueue, createContractWorker, createRedis, inferenceJob, studyPriorities } from '@ldh/queue';

const redisUrl = process.env.LDH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `ldh-priority-test-${process.pid}-${Date.now()}`;
const redis = createRedis(redisUrl);
const queue = new ContractQueue(inferenceJob, { connection: redis, prefix });

afterAll(async () => {
  await queue.queue.obliterate({ force: true });
  await queue.close();
  redis.disconnect();
});

describe('priorities', () => {
  it('maps Study.priority to BullMQ (1 = highest) and a STAT job added last runs first', async () => {
    expect(bullmqPriority(studyPriorities.stat)).toBe(1);
    expect(bullmqPriority(studyPriorities.routine)).toBe(10);
    const ids = Array.from({ length: 6 }, (_, i) => `3f1e1d2c-1b1a-4c9d-8e7f-6a5b4c3d2e${(10 + i).toString()}`);
    for (const id of ids.slice(0, 5)) await queue.add({ studyId: id, studyInstanceUid: '1.2.3', revision: 0 }, { jobId: `r-${id}`, priority: bullmqPriority(studyPriorities.routine) });
    await queue.add({ studyId: ids[5]!, studyInstanceUid: '1.2.3', revision: 0 }, { jobId: `s-${ids[5]!}`, priority: bullmqPriority(studyPriorities.stat) });
    const order: string[] = [];
    const ctx = { connection: createRedis(redisUrl, { forWorker: true }), prefix };
    const worker = createContractWorker(inferenceJob, ctx, async (p) => {
      order.push(p.studyId);
    });
    try {
      for (let i = 0; i < 100 && order.length < 6; i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await worker.close();
      ctx.connection.disconnect();
    }
    expect(order).toHaveLength(6);
    expect(order[0]).toBe(ids[5]);
    expect(order.slice(1)).toEqual(ids.slice(0, 5));
  });
});
