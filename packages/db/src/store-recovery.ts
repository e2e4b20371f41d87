import type { Db } from './client.js';

/**
 * The sha256s among `sha256s` that an Instance row references: the store's staging recovery asks
 * this to tell a possibly acknowledged object (row committed: keep it) from one that was never
 * acknowledged (no row: delete it).
 */
export async function referencedSha256s(db: Db, sha256s: string[]): Promise<Set<string>> {
  if (sha256s.length === 0) return new Set();
  const rows = await db.instance.findMany({ where: { sha256: { in: sha256s } }, select: { sha256: true }, distinct: ['sha256'] });
  return new Set(rows.map((r) => r.sha256));
}
