/**
 * The short chaos suite: three cycles of the same harness as `npm run chaos` (apps/cli/src/chaos),
 * with `ldh serve` as three role processes, a private Redis (AOF) and a private Orthanc, each
 * cycle hit by one fault whose recovery needs no BullMQ stall timeout: Redis flushed (the
 * reconciler must re-create the lost jobs from Postgres), the SCP killed with -9 (storescu
 * resends what was not ACKed) and our Postgres connections terminated. Needs `npm run build`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatChaosTable, runChaos } from './chaos/run.js';

const cli = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

describe('chaos suite (short)', () => {
  it('loses no ACKed instance, sends one SR per idempotency key and leaves no study stuck under flush, kill -9 and terminated connections', { timeout: 175_000 }, async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first`);
    const logs: string[] = [];
    const result = await runChaos({
      cli,
      repoRoot: fileURLToPath(new URL('../../..', import.meta.url)),
      cycles: 3,
      seed: 12,
      faults: ['redis-flush', 'kill-scp', 'pg-terminate'],
      order: 'round-robin',
      maxStudies: 2,
      cycleTimeoutMs: 40_000,
      adminUrl,
      log: (l) => logs.push(l),
    });
    const table = formatChaosTable(result);
    expect(result.cycles.map((c) => c.fault)).toEqual(['redis-flush', 'kill-scp', 'pg-terminate']);
    for (const c of result.cycles) {
      expect(c.acked, table).toBeGreaterThan(0);
      expect(c.recoveryMs, `${table}\n${logs.join('\n')}`).not.toBeNull();
    }
    expect(result.final.lost, table).toBe(0);
    expect(result.final.maxSrPerKey, table).toBe(1);
    expect(result.final.doneWithoutSr, table).toBe(0);
    expect(result.final.stuck, table).toBe(0);
    expect(result.final.doctorFound, table).toBe(0);
    // Valid phantom studies all end done, their SRs at the PACS: a skip here was the angled-L5-S1 routing bug.
    const studies = result.cycles.reduce((n, c) => n + c.studies, 0);
    expect(result.final.states, table).toEqual({ done: studies });
    expect(result.violations, `${table}\n${logs.join('\n')}`).toBe(0);
  });
});
