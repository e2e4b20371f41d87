/**
 * Start-up readiness of the database: reachable, existing, migrated. A role must not report
 * itself serving against a server that is down, a database that does not exist or a schema that
 * lacks migrations; each case gets its own message and hint instead of a raw driver error.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { repoRoot } from './migrate.js';

export type DatabaseReadiness =
  | { state: 'ready' }
  | { state: 'unreachable'; reason: string }
  | { state: 'missing-database'; database: string }
  | { state: 'unmigrated'; pending: string[] };

/** Committed migration folders (prisma/migrations/<ts>_<name>), oldest first. */
export function committedMigrations(): string[] {
  return readdirSync(path.join(repoRoot, 'prisma', 'migrations'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** Connect once and classify: ready, unreachable (transient: retry), missing database or pending migrations. */
export async function checkDatabase(url: string, timeoutMs = 3_000): Promise<DatabaseReadiness> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  c.on('error', () => undefined);
  try {
    await c.connect();
  } catch (err) {
    await c.end().catch(() => undefined);
    const e = err as { code?: string; message?: string };
    if (e.code === '3D000') return { state: 'missing-database', database: databaseName(url) };
    return { state: 'unreachable', reason: e.code ?? e.message ?? String(err) };
  }
  try {
    const applied = new Set<string>();
    const table = await c.query<{ t: string | null }>(`SELECT to_regclass('_prisma_migrations')::text AS t`);
    if (table.rows[0]?.t) {
      const r = await c.query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL');
      for (const row of r.rows) applied.add(row.migration_name);
    }
    const pending = committedMigrations().filter((m) => !applied.has(m));
    return pending.length > 0 ? { state: 'unmigrated', pending } : { state: 'ready' };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { state: 'unreachable', reason: e.code ?? e.message ?? String(err) };
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** The database name in a postgres URL (for messages; never the password). */
export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}

/** Run `f` on a client of the server's `postgres` database (the one a CREATE/DROP DATABASE needs). */
async function withAdminClient<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

const quoted = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Create the database a URL names, connecting to the server's `postgres` database to do it. */
export async function createDatabaseOf(url: string): Promise<void> {
  const name = databaseName(url);
  await withAdminClient(url, async (c) => {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (r.rowCount === 0) await c.query(`CREATE DATABASE ${quoted(name)}`);
  });
}

/** Drop the database a URL names (tests and the demo's own database under --use-env). */
export async function dropDatabaseOf(url: string): Promise<void> {
  await withAdminClient(url, (c) => c.query(`DROP DATABASE IF EXISTS ${quoted(databaseName(url))} WITH (FORCE)`));
}
