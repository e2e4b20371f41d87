/**
 * Scale-out on one machine (issue 15 item 6): separate OS processes of the built CLI share one
 * Postgres database, one Redis (a private queue prefix) and one instance store, as separate
 * hosts would: one `ldh serve --role scp` with LDH_SCP_PROCESSES=2 (two SCP processes on one
 * port through Node's cluster module; Node 20 has no SO_REUSEPORT), two `--role worker` and two
 * `--role writer`. 20 phantom studies arrive concurrently (one association each); the destination
 * is dcmtk `storescp --unique-filenames`, which writes every received object to a new file, so a
 * duplicated delivery would show up as a second file. Each study must be inferred once, get one
 * SR, be delivered once, with no lost or re-created job — and every process kind must have done
 * part of the work (who did what is read from the audit trail's actor: `<role>@<host>:<pid>`).
 * Uses the placeholder model (the test is about coordination, not scores). Needs `npm run build`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createScratchDatabase, type Db } from '@ldh/db';
import { readPart10, storeFiles, str, type StoreResult } from '@ldh/dicom';
import { writePhantomDataset } from '@ldh/phantom';
import { closePipelineQueues, createPipelineQueues } from '@ldh/pipeline';
import { createRedis } from '@ldh/queue';
import { freePort } from './services.js';

const cli = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const placeholderCard = fileURLToPath(new URL('../../../models/placeholder-v0.json', import.meta.url));
const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.LDH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const STUDIES = 20;

interface Proc {
  name: string;
  child: ChildProcess;
  logs: string;
  exit: Promise<number | null>;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.dcm') ? [p] : [];
  });
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-scale-'));
const prefix = `ldh-scale-${process.pid}-${Date.now()}`;
const procs: Proc[] = [];
let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
let storescp: ChildProcess | undefined;
const destDir = path.join(tmp, 'destination');
let scpPort = 0;

function start(name: string, role: string, env: Record<string, string>): Proc {
  // Several serve processes on one host: each its own free /metrics port.
  const child = spawn(process.execPath, [cli, 'serve', '--role', role], { env: { PATH: process.env.PATH, LDH_HTTP_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { name, child, logs: '', exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
  child.stdout!.on('data', (d: Buffer) => (p.logs += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (p.logs += d.toString()));
  procs.push(p);
  return p;
}

async function waitForLog(p: Proc, text: string, ms = 90_000): Promise<void> {
  let exited = false;
  void p.exit.then(() => (exited = true));
  const until = Date.now() + ms;
  while (!p.logs.includes(text)) {
    if (exited) throw new Error(`${p.name} exited early:\n${p.logs.slice(-3000)}`);
    if (Date.now() > until) throw new Error(`${p.name} did not log "${text}":\n${p.logs.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `<role>@<host>:<pid>` → pid. */
const pidOf = (actor: string): number => Number(actor.slice(actor.lastIndexOf(':') + 1));

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first`);
  scratch = await createScratchDatabase(adminUrl);
  db = createDb(scratch.url);
  mkdirSync(destDir);
  const destPort = await freePort();
  // --fork: concurrent associations from both writers; --unique-filenames: a resent object gets a new file.
  storescp = spawn('storescp', ['--fork', '--unique-filenames', '-od', destDir, '-aet', 'DEST', String(destPort)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
  scpPort = await freePort();
  const common = {
    DATABASE_URL: scratch.url,
    REDIS_URL: redisUrl,
    LDH_QUEUE_PREFIX: prefix,
    LDH_STORAGE_DIR: path.join(tmp, 'storage'),
    LOG_LEVEL: 'info',
  };
  const writerEnv = { ...common, LDH_DESTINATIONS: `dest=DEST@127.0.0.1:${destPort}`, LDH_DELIVERY_POLL_MS: '250' };
  const workerEnv = { ...common, LDH_MODEL_CARD: placeholderCard, LDH_INFERENCE_THREADS: '1' };
  const downstream = [start('writer-1', 'writer', writerEnv), start('writer-2', 'writer', writerEnv), start('worker-1', 'worker', workerEnv), start('worker-2', 'worker', workerEnv)];
  await Promise.all(downstream.map((p) => waitForLog(p, 'ldh serving')));
  const scp = start('scp', 'scp', {
    ...common,
    LDH_SCP_HOST: '127.0.0.1',
    LDH_SCP_PORT: String(scpPort),
    LDH_SCP_PROCESSES: '2',
    LDH_ALLOWED_PEERS: 'SCALE_SCU@127.0.0.1',
    // Long enough that most 0xA700 resends (see below) land before the study settles.
    LDH_QUIET_PERIOD_MS: '8000',
    LDH_EARLY_SETTLE_MS: '0',
    LDH_MIN_FREE_BYTES: String(64 * 1024 ** 2),
  });
  await waitForLog(scp, 'scp processes listening on one port');
}, 180_000);

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exit));
  if (storescp && storescp.exitCode === null) {
    const gone = new Promise((r) => storescp!.once('exit', r));
    storescp.kill('SIGTERM');
    await gone;
  }
  // Leave nothing in the shared Redis: the private prefix's queues go.
  const connection = createRedis(redisUrl);
  const queues = createPipelineQueues({ connection, prefix });
  for (const q of Object.values(queues)) await q.queue.obliterate({ force: true });
  await closePipelineQueues(queues);
  connection.disconnect();
  await db?.$disconnect();
  await scratch?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('scale-out: 2 SCP processes on one port, 2 workers, 2 writers, one Redis and Postgres', () => {
  let studyUids: string[] = [];

  it(`takes ${STUDIES} studies sent concurrently to done`, async () => {
    const data = await writePhantomDataset({ outDir: path.join(tmp, 'phantom'), count: STUDIES, seed: 1515, matrix: 64, sagittalSlices: 11 });
    studyUids = data.studies.map((s) => s.studyInstanceUid);
    expect(new Set(studyUids).size).toBe(STUDIES);
    const target = { host: '127.0.0.1', port: scpPort, callingAeTitle: 'SCALE_SCU', calledAeTitle: 'LDH_TRIAGE' };
    // One association per study, all at once: the cluster spreads them over both SCP processes.
    // 0xA700 (out of resources) is the SCP's back-pressure when Postgres falls behind (a loaded
    // host): a sender resends those instances later, as modalities do. Anything else is a failure.
    const sendStudy = async (dir: string): Promise<StoreResult[]> => {
      let pending = files(dir).sort();
      for (let attempt = 1; ; attempt++) {
        const failed = (await storeFiles(target, pending)).filter((r) => !r.ok);
        if (failed.length === 0 || attempt === 10 || failed.some((r) => r.status !== 0xa700)) return failed;
        pending = failed.map((r) => r.file);
        await new Promise((r) => setTimeout(r, 1_000 * attempt));
      }
    };
    const failed = await Promise.all(data.studies.map((s) => sendStudy(s.dir)));
    expect(failed.flat()).toEqual([]);

    const until = Date.now() + 300_000;
    let states: string[] = [];
    while (Date.now() < until) {
      states = (await db.study.findMany({ select: { state: true } })).map((s) => s.state);
      if (states.length === STUDIES && states.every((s) => ['done', 'skipped', 'failed', 'delivery_failed'].includes(s))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const histogram = states.reduce<Record<string, number>>((h, s) => ({ ...h, [s]: (h[s] ?? 0) + 1 }), {});
    const detail = `${JSON.stringify(histogram)}\n${procs.map((p) => `--- ${p.name}\n${p.logs.slice(-1500)}`).join('\n')}`;
    expect(states.filter((s) => s === 'done'), detail).toHaveLength(STUDIES);
  }, 420_000);

  it('inferred each study exactly once, one SR each, no re-created or failed job', async () => {
    const studies = await db.study.findMany({ include: { inferenceRuns: true, reports: { include: { deliveries: true } }, jobIntents: true } });
    expect(studies.map((s) => s.studyInstanceUid).sort()).toEqual([...studyUids].sort());
    for (const s of studies) {
      expect(s.inferenceRuns, s.studyInstanceUid).toHaveLength(1);
      expect(s.inferenceRuns[0]).toMatchObject({ state: 'succeeded', attempts: 1 });
      expect(s.reports, s.studyInstanceUid).toHaveLength(1);
      expect(s.reports[0]!.deliveries).toHaveLength(1);
      expect(s.reports[0]!.deliveries[0]).toMatchObject({ state: 'delivered', attempts: 1 });
      // Every job intent dispatched once (attempt 0: never re-created as lost), one report job.
      // A resent instance arriving after the quiet period reopens the study (a new revision,
      // routed again, and its inference job finds the same input: the run above is reused).
      expect(s.jobIntents.filter((j) => j.state !== 'dispatched' || j.attempt !== 0)).toEqual([]);
      expect(s.jobIntents.filter((j) => j.stage === 'report')).toHaveLength(1);
      expect(s.jobIntents.filter((j) => j.stage === 'route')).toHaveLength(s.revision + 1);
    }
    expect(await db.report.count()).toBe(STUDIES);

    const audit = await db.auditEvent.findMany({ where: { studyInstanceUid: { in: studyUids } } });
    for (const uid of studyUids) {
      const of = (action: string) => audit.filter((a) => a.studyInstanceUid === uid && a.action === action).length;
      expect({ uid, started: of('inference.started'), succeeded: of('inference.succeeded'), takenOver: of('inference.taken-over'), failed: of('inference.failed'), written: of('report.written'), delivered: of('delivery.delivered') }).toEqual({
        uid,
        started: 1,
        succeeded: 1,
        takenOver: 0,
        failed: 0,
        written: 1,
        delivered: 1,
      });
    }

    // BullMQ agrees: every job completed once, none failed, waiting or delayed.
    const connection = createRedis(redisUrl);
    const queues = createPipelineQueues({ connection, prefix });
    try {
      // One BullMQ job per intent, each completed once: none lost, none duplicated.
      const intents = (stage: string) => studies.reduce((n, s) => n + s.jobIntents.filter((j) => j.stage === stage).length, 0);
      for (const [q, stage] of [
        [queues.route, 'route'],
        [queues.inference, 'inference'],
        [queues.report, 'report'],
      ] as const) {
        const counts = await q.queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed', 'prioritized');
        expect({ queue: q.queue.name, ...counts }).toEqual({ queue: q.queue.name, completed: intents(stage), failed: 0, waiting: 0, active: 0, delayed: 0, prioritized: 0 });
      }
    } finally {
      await closePipelineQueues(queues);
      connection.disconnect();
    }
  });

  it('delivered each SR to the destination exactly once', async () => {
    const reports = await db.report.findMany();
    const received = new Map<string, number>();
    for (const f of readdirSync(destDir)) {
      const { dataset } = readPart10(readFileSync(path.join(destDir, f)), { headerOnly: true });
      const uid = str(dataset, 'SOPInstanceUID') ?? '';
      received.set(uid, (received.get(uid) ?? 0) + 1);
    }
    for (const r of reports) expect(received.get(r.srSopInstanceUid), r.srSopInstanceUid).toBe(1);
    // Nothing else arrived twice either (the KOS, when written, goes with its SR).
    expect([...received.values()].filter((n) => n !== 1)).toEqual([]);
  });

  it('spread the work over both SCP processes, both workers and both writers', async () => {
    const audit = await db.auditEvent.findMany({ where: { studyInstanceUid: { in: studyUids } } });
    const pids = (action: string) => new Set(audit.filter((a) => a.action === action).map((a) => pidOf(a.actor)));
    const pidsOf = (name: string) => new Set(procs.filter((p) => p.name.startsWith(name)).map((p) => p.child.pid));
    const scpPids = pids('study.receiving');
    expect(scpPids.size, 'studies received by distinct SCP processes').toBe(2);
    // Neither is the cluster's primary (it only accepts and hands connections over).
    expect([...scpPids].some((pid) => pidsOf('scp').has(pid))).toBe(false);
    expect(pids('inference.started')).toEqual(pidsOf('worker-'));
    expect(pids('report.written')).toEqual(pidsOf('writer-'));
    expect(pids('delivery.delivered')).toEqual(pidsOf('writer-'));
  });

  it('stops every process cleanly on SIGTERM', async () => {
    for (const p of procs) p.child.kill('SIGTERM');
    const codes = await Promise.all(procs.map((p) => Promise.race([p.exit, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))])));
    expect(Object.fromEntries(procs.map((p, i) => [p.name, codes[i]]))).toEqual(Object.fromEntries(procs.map((p) => [p.name, 0])));
    expect(procs.find((p) => p.name === 'scp')!.logs).toContain('stopped cleanly');
  });
});
