/**
 * The demo touches nothing it does not own (issue 15 item 1). A scratch database stands in for
 * a site's real one (a destination, audit rows) and is what DATABASE_URL names; the shared Redis
 * is what REDIS_URL names. `ldh demo` (private embedded Postgres + redis-server, the default) and
 * `ldh demo --use-env` (that server, but its own database and queue prefix) must both leave the
 * scratch database exactly as it was (row counts, destination flags, audit high-water mark) and
 * leave no key of their prefix in Redis. Needs `npm run build` first; Orthanc is optional (the
 * demo falls back to its built-in storage SCP).
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, createDb, createScratchDatabase, dropDatabaseOf, upsertDestination, type Db } from '@ldh/db';
import { createRedis } from '@ldh/queue';

const cli = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.LDH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let victim: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-demo-safety-'));
// Run as root, the embedded server runs as OS user postgres, who must reach its data folder.
chmodSync(tmp, 0o755);
const demoDatabase = `ldh_demo_t${randomBytes(4).toString('hex')}`;

/** What "unchanged" means: every table's row count, each destination's flags, the audit high-water mark. */
async function snapshot(): Promise<unknown> {
  const tables = await db.$queryRawUnsafe<Array<{ table_name: string }>>(`SELECT table_name::text AS table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`);
  const counts: Record<string, number> = {};
  for (const { table_name } of tables) {
    const r = await db.$queryRawUnsafe<Array<{ n: bigint }>>(`SELECT count(*) AS n FROM "${table_name}"`);
    counts[table_name] = Number(r[0]!.n);
  }
  const destinations = await db.destination.findMany({ orderBy: { name: 'asc' }, select: { name: true, enabled: true, host: true, port: true, aeTitle: true } });
  const audit = await db.auditEvent.aggregate({ _max: { id: true } });
  return { counts, destinations, auditMaxId: String(audit._max.id) };
}

/** Run `ldh demo` with the site's DATABASE_URL / REDIS_URL in its environment. */
function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; pid: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'demo', '--json', '--seed', '11', '--timeout', '300', ...args], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: victim.url, REDIS_URL: redisUrl, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr, pid: child.pid! }));
  });
}

async function keysOfDemo(pid: number): Promise<string[]> {
  const r = createRedis(redisUrl);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await r.scan(cursor, 'MATCH', `ldh-demo-${pid}-*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys;
  } finally {
    r.disconnect();
  }
}

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first`);
  victim = await createScratchDatabase(adminUrl, 'ldh_site');
  db = createDb(victim.url);
  await upsertDestination(db, { name: 'site-pacs', aeTitle: 'SITE_PACS', host: '10.0.0.5', port: 104 });
  await upsertDestination(db, { name: 'site-archive', aeTitle: 'ARCHIVE', host: '10.0.0.6', port: 104, enabled: false });
  await appendAudit(db, { entityType: 'destination', entityId: 'site-pacs', action: 'destination.configured', actor: 'site-admin' });
});

afterAll(async () => {
  await db?.$disconnect();
  await victim?.drop();
  await dropDatabaseOf(new URL(`/${demoDatabase}`, adminUrl).toString());
  rmSync(tmp, { recursive: true, force: true });
});

describe('ldh demo leaves the servers named in the environment as they were', () => {
  it('by default: private Postgres and Redis, whatever DATABASE_URL and REDIS_URL say', async () => {
    const before = await snapshot();
    const r = await runDemo(['--work-dir', path.join(tmp, 'default')]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { ok: boolean; services: { postgres: string; redis: string }; destination: { srReceived: boolean } };
    expect(summary.ok).toBe(true);
    expect(summary.services.postgres).toMatch(/^embedded PostgreSQL/);
    expect(summary.services.redis).toMatch(/^private redis-server/);
    expect(await snapshot()).toEqual(before);
    expect(await keysOfDemo(r.pid)).toEqual([]);
  }, 400_000);

  it('--use-env: that server and Redis, but its own database and queue prefix, removed from Redis at the end', async () => {
    const before = await snapshot();
    const r = await runDemo(['--use-env', '--demo-database', demoDatabase, '--work-dir', path.join(tmp, 'use-env')]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { ok: boolean; services: { postgres: string; redis: string } };
    expect(summary.ok).toBe(true);
    expect(summary.services.postgres).toContain(`own database "${demoDatabase}"`);
    expect(summary.services.redis).toMatch(/^configured/);
    expect(await snapshot()).toEqual(before);
    expect(await keysOfDemo(r.pid)).toEqual([]);
  }, 400_000);
});
