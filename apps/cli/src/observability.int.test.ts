/**
 * /metrics, /healthz and /readyz of an in-process pipeline (scp + worker + writer sharing one
 * registry and one HTTP server, as `ldh serve` runs them) against real peers: dcmtk `storescu`
 * sends a phantom study, the counters move as it flows to done; a private redis-server is
 * stopped and restarted and /readyz follows it while /healthz stays 200.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@ldh/config';
import { createDb, createScratchDatabase, type Db } from '@ldh/db';
import { createObservability, startHttpServer, type RunningHttpServer } from '@ldh/observability';
import { writePhantomDataset } from '@ldh/phantom';
import { loadScpEnv, startScp, type RunningScp } from '@ldh/scp';
import { loadWorkerEnv, startWorker, type RunningWorker } from '@ldh/worker';
import { loadWriterEnv, startWriter, type RunningWriter } from '@ldh/writer';
import { ChaosRedis } from './chaos/cluster.js';
import { freePort, startFolderDestination, type DestinationService } from './services.js';

const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const placeholderCard = path.join(import.meta.dirname, '../../../models/placeholder-v0.json');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-obs-int-'));

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
let redis: ChaosRedis;
let destination: DestinationService;
let http: RunningHttpServer;
let scp: RunningScp | undefined;
let worker: RunningWorker | undefined;
let writer: RunningWriter | undefined;

/** Sum of the samples of `name` whose labels include every pair of `labels` (0 when none). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[3]);
  }
  return total;
}

function storescu(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('storescu', args, { env: { ...process.env, TCP_NODELAY: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

const scrape = async () => (await fetch(`${http.url}/metrics`)).text();

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  scratch = await createScratchDatabase(adminUrl, 'ldh_obs');
  db = createDb(scratch.url);
  redis = new ChaosRedis(await freePort(), path.join(tmp, 'redis'));
  await redis.start();
  destination = await startFolderDestination(path.join(tmp, 'destination'));
  const env = {
    DATABASE_URL: scratch.url,
    REDIS_URL: redis.url,
    LOG_LEVEL: 'silent',
    LDH_QUEUE_PREFIX: `ldh-obs-${process.pid}`,
    LDH_STORAGE_DIR: path.join(tmp, 'storage'),
    LDH_HTTP_HOST: '127.0.0.1',
    LDH_HTTP_PORT: '0',
  };
  const logger = createLogger('ldh-obs-test', { level: 'silent' });
  // One registry and one server for the three roles, as `ldh serve` does.
  const observability = createObservability();
  http = await startHttpServer({ host: '127.0.0.1', port: 0, registry: observability.registry, checks: observability.runReadiness });
  writer = await startWriter(loadWriterEnv({ ...env, LDH_DESTINATIONS: `sink=${destination.aeTitle}@127.0.0.1:${destination.port}`, LDH_DELIVERY_POLL_MS: '200' }), { logger, observability });
  worker = await startWorker(loadWorkerEnv({ ...env, LDH_MODEL_CARD: placeholderCard }), { logger, observability });
  scp = await startScp(
    loadScpEnv({ ...env, LDH_SCP_HOST: '127.0.0.1', LDH_SCP_PORT: String(await freePort()), LDH_ALLOWED_PEERS: 'STORESCU@127.0.0.1', LDH_QUIET_PERIOD_MS: '1500', LDH_MIN_FREE_BYTES: String(16 * 1024 ** 2) }),
    { logger, observability },
  );
}, 300_000); // migrations, model warm-up and three roles: minutes on a loaded 2-core machine

afterAll(async () => {
  await scp?.stop();
  await worker?.stop();
  await writer?.stop();
  await http?.close();
  await destination?.stop();
  await redis?.stop();
  await db?.$disconnect();
  await scratch?.drop();
  rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe('observability of the running pipeline', () => {
  it('is ready with every role’s checks, one server for all roles', async () => {
    const res = await fetch(`${http.url}/readyz`);
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(Object.keys(body.checks).sort()).toEqual(
      ['scp.disk', 'scp.listening', 'scp.postgres', 'scp.redis', 'worker.model', 'worker.postgres', 'worker.redis', 'writer.postgres', 'writer.redis'].sort(),
    );
  });

  it('moves the counters when a study flows from storescu to done', async () => {
    const before = await scrape();
    expect(sample(before, 'ldh_studies', { state: 'done' })).toBe(0);
    expect(sample(before, 'ldh_model_info', { provider: 'cpu', placeholder: 'true' })).toBe(1);

    const data = await writePhantomDataset({ outDir: path.join(tmp, 'phantom'), count: 1, seed: 913, levels: 'L4-L5:extrusion' });
    const study = data.studies[0]!;
    // Asynchronously: the SCP answering it runs in this process's event loop.
    const send = await storescu(['-aet', 'STORESCU', '-aec', 'LDH_TRIAGE', '+sd', '+r', '127.0.0.1', String(scp!.port), study.dir]);
    expect(send.code, send.output).toBe(0);

    const after = await until('study done and its delivery counted', 120_000, async () => {
      const row = await db.study.findUnique({ where: { studyInstanceUid: study.studyInstanceUid } });
      if (row?.state !== 'done') return undefined;
      const text = await scrape();
      return sample(text, 'ldh_delivery_attempts_total', { destination: 'sink', outcome: 'delivered' }) >= 1 ? text : undefined;
    });
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);

    expect(delta('ldh_scp_instances_total', { outcome: 'stored' })).toBe(study.instanceCount);
    expect(delta('ldh_scp_store_duration_seconds_count', { outcome: 'stored' })).toBe(study.instanceCount);
    expect(delta('ldh_scp_bytes_total')).toBeGreaterThan(study.instanceCount * 1024);
    expect(delta('ldh_scp_associations_total', { result: 'accepted' })).toBe(1);
    for (const queue of ['study-route', 'inference', 'report']) {
      expect(delta('ldh_job_duration_seconds_count', { queue, outcome: 'completed' }), queue).toBeGreaterThanOrEqual(1);
    }
    expect(delta('ldh_inference_duration_seconds_count', { provider: 'cpu' })).toBe(1);
    expect(delta('ldh_inference_images_total', { provider: 'cpu' })).toBeGreaterThan(0);
    expect(delta('ldh_delivery_attempts_total', { destination: 'sink', outcome: 'delivered' })).toBe(1);
    expect(sample(after, 'ldh_delivery_failures_total')).toBe(0);
    expect(sample(after, 'ldh_studies', { state: 'done' })).toBe(1);
    expect(after).toMatch(/ldh_queue_jobs\{queue="inference",state="waiting"\} 0/);
    expect(sample(after, 'ldh_storage_free_bytes')).toBeGreaterThan(0);
    // Labels are fixed vocabularies and configured names: no patient field reaches /metrics.
    expect(after).not.toContain(study.studyInstanceUid);
  }, 240_000);

  it('turns /readyz 503 naming redis while Redis is down, and 200 after it is back; /healthz stays 200', async () => {
    const healthz = async () => expect((await fetch(`${http.url}/healthz`)).status).toBe(200);
    await redis.stop();
    const down = await until('/readyz 503', 30_000, async () => {
      await healthz();
      const res = await fetch(`${http.url}/readyz`);
      return res.status === 503 ? ((await res.json()) as { failed: string[] }) : undefined;
    });
    expect(down.failed.sort()).toEqual(['scp.redis', 'worker.redis', 'writer.redis']);

    await redis.start();
    await until('/readyz 200 again', 60_000, async () => {
      await healthz();
      return (await fetch(`${http.url}/readyz`)).status === 200 ? true : undefined;
    });
    await healthz();
  }, 180_000);
});
