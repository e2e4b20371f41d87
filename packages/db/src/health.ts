import type { Db } from './client.js';
import { StudyState } from './generated/prisma/enums.js';

/** Readiness: one round trip on the role's own pool (throws when Postgres does not answer). */
export async function probeDatabase(db: Db): Promise<void> {
  await db.$queryRaw`SELECT 1`;
}

/**
 * Studies per state, every state present (0 when none): one GROUP BY over the state column,
 * cheap enough to run on every Prometheus scrape.
 */
export async function countStudiesByState(db: Db): Promise<Record<StudyState, number>> {
  const counts = Object.fromEntries(Object.values(StudyState).map((s) => [s, 0])) as Record<StudyState, number>;
  const rows = await db.study.groupBy({ by: ['state'], _count: { _all: true } });
  for (const r of rows) counts[r.state] = r._count._all;
  return counts;
}
