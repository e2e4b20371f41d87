import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StagingPool } from './staging-pool.js';

describe('StagingPool.prepare', () => {
  let dir: string;
  let pool: StagingPool | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ldh-staging-'));
  });
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  /** Waits until the pool's background preparation has settled (the chain is serial). */
  const settled = (p: StagingPool): Promise<void> => (p as unknown as { preparing: Promise<void> }).preparing;

  it('hands out prepared files only after a directory fsync made their names durable', async () => {
    const synced: string[][] = [];
    pool = new StagingPool({
      dir,
      batchSize: 4,
      lowWater: 0, // no background refill: every take below comes from prepare()
      preparedPerSync: 3,
      fsyncDir: async (d) => {
        synced.push(await readdir(d));
      },
    });
    const p = pool;
    p.prepare();
    p.prepare();
    await settled(p);
    expect(synced).toHaveLength(0); // 2 < preparedPerSync: created, not yet durable, not handed out
    p.prepare();
    await settled(p);
    expect(synced).toHaveLength(1);
    expect(synced[0]).toHaveLength(3); // the fsync came after all three names existed
    // Taken without a refill: the three prepared files, each listed in the synced directory.
    const taken = [await p.take(), await p.take(), await p.take()];
    expect(synced).toHaveLength(1);
    for (const f of taken) expect(synced[0]).toContain(f.path.slice(dir.length + 1));
  });

  it('falls back to a batch refill when nothing prepared is durable yet', async () => {
    let fsyncs = 0;
    pool = new StagingPool({ dir, batchSize: 4, lowWater: 0, preparedPerSync: 8, fsyncDir: async () => void (fsyncs += 1) });
    pool.prepare();
    await settled(pool);
    const f = await pool.take();
    expect(fsyncs).toBe(1); // the refill's, not a per-file one
    expect((await readdir(dir)).length).toBe(5); // 4 from the batch + 1 prepared (kept for later)
    expect(f.path.startsWith(dir)).toBe(true);
  });

  it('stops preparing when maxPooled files are pooled (C-STOREs that never write cannot exhaust descriptors)', async () => {
    pool = new StagingPool({ dir, batchSize: 4, lowWater: 0, preparedPerSync: 2, maxPooled: 5, fsyncDir: async () => undefined });
    for (let i = 0; i < 50; i++) pool.prepare();
    await settled(pool);
    expect(pool.pooled).toBe(5);
    expect((await readdir(dir)).length).toBe(5);
    await pool.take();
    pool.prepare(); // room for one again
    await settled(pool);
    expect((await readdir(dir)).length).toBe(6); // 4 left + 1 taken (still on disk until renamed) + 1 new
  });
});
