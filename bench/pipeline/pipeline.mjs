#!/usr/bin/env node
// Whole-pipeline benchmark on this machine: `ldh serve` (all roles, one process, the built CLI,
// the default model card: the trained model when shipped) against a scratch Postgres database, a
// private queue prefix on Redis and a private Orthanc as the PACS; phantom studies (default
// matrix) sent with dcmtk storescu (TCP_NODELAY=1).
//
//  1. end-to-end latency: one study at a time (after one unmeasured warm-up study), from the last
//     C-STORE acknowledgement (Study.lastInstanceAt, committed just before the response) to the
//     SR stored at the PACS (Delivery.deliveredAt, set on Orthanc's C-STORE success), minus the
//     configured quiet period (early settling off, so the quiet period is exactly what a study
//     waits), with the stages in between from the audit trail; target <= 2 s on CPU;
//  2. studies/hour with N studies in flight: N sender lanes, each sends a study and sends the next
//     one once its SR is delivered (closed loop), for M studies; M / elapsed. Each lane's cycle
//     includes the quiet period, so the printed bound N × 3600 / quiet is the most a lane set could reach.
//
// Usage: node bench/pipeline/pipeline.mjs [--quick] [--studies 3] [--in-flight 4] [--throughput-studies 12]
//          [--quiet-ms 2000] [--database-url postgresql://...] [--redis-url redis://...]
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { loadavg, availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    studies: { type: 'string' },
    'in-flight': { type: 'string' },
    'throughput-studies': { type: 'string' },
    'quiet-ms': { type: 'string', default: '2000' },
    'database-url': { type: 'string', default: 'postgresql://postgres@127.0.0.1:5432/postgres' },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
  },
});
const LATENCY_STUDIES = Number(args.studies ?? (args.quick ? 3 : 5));
const IN_FLIGHT = Number(args['in-flight'] ?? 4);
const THROUGHPUT_STUDIES = Number(args['throughput-studies'] ?? (args.quick ? 8 : 20));
const QUIET_MS = Number(args['quiet-ms']);
const TARGET_E2E_MS = 2000;
const log = (m) => process.stderr.write(`[pipeline] ${m}\n`);

const { createScratchDatabase, createDb } = await import('@ldh/db');
const { writePhantomDataset } = await import('@ldh/phantom');
const { startOrthanc, freePort } = await import(join(root, 'apps/cli/dist/services.js'));
const { createPipelineQueues, closePipelineQueues } = await import('@ldh/pipeline');
const { createRedis } = await import('@ldh/queue');
const cli = join(root, 'apps/cli/dist/main.js');
const queuePrefix = `ldh-bench-${process.pid}-${Date.now()}`;

async function dicomFiles(dir) {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await dicomFiles(p)));
    else if (e.name.endsWith('.dcm')) out.push(p);
  }
  return out;
}

function storescu(port, dir) {
  return new Promise((resolveSend, reject) => {
    const p = spawn('storescu', ['-aet', 'BENCHSCU', '-aec', 'LDH_TRIAGE', '+sd', '+r', '127.0.0.1', String(port), dir], {
      env: { ...process.env, TCP_NODELAY: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d) => (err += d.toString()));
    p.once('close', (code) => (code === 0 ? resolveSend() : reject(new Error(`storescu exited ${code}: ${err.slice(-400)}`))));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const work = await mkdtemp(join(tmpdir(), 'ldh-bench-pipeline-'));
const scratch = await createScratchDatabase(args['database-url'], 'ldh_bench');
const db = createDb(scratch.url);
let orthanc;
let serve;
let serveLogs = '';
try {
  orthanc = await startOrthanc();
  if (!orthanc) throw new Error('Orthanc is not installed');
  const total = 1 + LATENCY_STUDIES + THROUGHPUT_STUDIES;
  log(`generating ${total} phantom studies ...`);
  const data = await writePhantomDataset({ outDir: join(work, 'phantom'), count: total, seed: 2026 });
  const studies = data.studies;
  const instancesPerStudy = median(studies.map((s) => s.instanceCount));
  const scpPort = await freePort();
  serve = spawn(process.execPath, [cli, 'serve', '--role', 'scp,worker,writer'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: scratch.url,
      REDIS_URL: args['redis-url'],
      LDH_QUEUE_PREFIX: queuePrefix,
      LDH_STORAGE_DIR: join(work, 'storage'),
      LDH_SCP_HOST: '127.0.0.1',
      LDH_SCP_PORT: String(scpPort),
      LDH_ALLOWED_PEERS: 'BENCHSCU@127.0.0.1',
      LDH_QUIET_PERIOD_MS: String(QUIET_MS),
      LDH_EARLY_SETTLE_MS: '0',
      LDH_MIN_FREE_BYTES: String(256 * 1024 ** 2),
      LDH_DESTINATIONS: `pacs=ORTHANC@127.0.0.1:${orthanc.port}`,
      LDH_HTTP_PORT: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  serve.stdout.on('data', (d) => (serveLogs = (serveLogs + d.toString()).slice(-20000)));
  serve.stderr.on('data', (d) => (serveLogs = (serveLogs + d.toString()).slice(-20000)));
  const exited = new Promise((r) => serve.once('exit', r));
  // LOG_LEVEL=warn hides "ldh serving": wait until the port answers an association instead.
  const until = Date.now() + 120_000;
  for (;;) {
    if (serve.exitCode !== null) throw new Error(`ldh serve exited:\n${serveLogs}`);
    const ok = await new Promise((r) => spawn('echoscu', ['-aet', 'BENCHSCU', '-aec', 'LDH_TRIAGE', '127.0.0.1', String(scpPort)], { stdio: 'ignore' }).once('close', (c) => r(c === 0)));
    if (ok) break;
    if (Date.now() > until) throw new Error(`ldh serve did not start:\n${serveLogs}`);
    await new Promise((r) => setTimeout(r, 500));
  }

  /** Wait until the study is done; its row, the delivery and the audit stages. */
  async function waitDone(uid, timeoutMs = 300_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await db.study.findUnique({ where: { studyInstanceUid: uid }, include: { reports: { include: { deliveries: true } } } });
      if (s && ['done', 'skipped', 'failed', 'delivery_failed'].includes(s.state)) {
        if (s.state !== 'done') throw new Error(`study ${uid} ended ${s.state}: ${s.stateReason ?? s.lastError ?? ''}`);
        return s;
      }
      if (Date.now() > deadline) throw new Error(`study ${uid} not done after ${timeoutMs} ms (state ${s?.state}):\n${serveLogs.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  log('warm-up study (model load, JIT, first connections; not measured) ...');
  await storescu(scpPort, studies[0].dir);
  await waitDone(studies[0].studyInstanceUid);

  const latencies = [];
  for (let i = 1; i <= LATENCY_STUDIES; i++) {
    const st = studies[i];
    await storescu(scpPort, st.dir);
    const s = await waitDone(st.studyInstanceUid);
    const delivered = s.reports.at(-1).deliveries[0].deliveredAt;
    if (!(await orthanc.has(s.reports.at(-1).srSopInstanceUid))) throw new Error(`SR of ${st.studyInstanceUid} is not in Orthanc`);
    const audit = await db.auditEvent.findMany({ where: { studyInstanceUid: st.studyInstanceUid }, orderBy: { id: 'asc' } });
    const at = (action) => audit.find((a) => a.action === action)?.at.getTime();
    const t0 = s.lastInstanceAt.getTime();
    const stages = {
      settled: at('study.settled') - t0 - QUIET_MS,
      inferred: at('inference.succeeded') - t0 - QUIET_MS,
      srWritten: at('report.written') - t0 - QUIET_MS,
      delivered: delivered.getTime() - t0 - QUIET_MS,
    };
    latencies.push(stages);
    log(`study ${i}/${LATENCY_STUDIES}: SR at the PACS ${stages.delivered.toFixed(0)} ms after last ACK + quiet period (settled ${stages.settled}, inferred ${stages.inferred}, SR written ${stages.srWritten})`);
  }

  log(`throughput: ${THROUGHPUT_STUDIES} studies, ${IN_FLIGHT} in flight ...`);
  const queue = studies.slice(1 + LATENCY_STUDIES);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let st = queue.shift(); st; st = queue.shift()) {
        await storescu(scpPort, st.dir);
        await waitDone(st.studyInstanceUid);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const perHour = (THROUGHPUT_STUDIES / seconds) * 3600;
  log(`throughput: ${perHour.toFixed(0)} studies/hour`);

  serve.kill('SIGTERM');
  await exited;
  serve = undefined;

  const e2e = median(latencies.map((l) => l.delivered));
  const stageMedians = Object.fromEntries(['settled', 'inferred', 'srWritten', 'delivered'].map((k) => [k, median(latencies.map((l) => l[k]))]));
  console.log(`\npipeline: ldh serve (all roles, one process), default model card, Orthanc as PACS, quiet period ${QUIET_MS} ms (early settle off), ${instancesPerStudy} instances per study (median)`);
  console.log(`end-to-end, last C-STORE ACK -> SR stored at the PACS, quiet period subtracted, median of ${LATENCY_STUDIES}: ${e2e.toFixed(0)} ms (target <= ${TARGET_E2E_MS} ms: ${e2e <= TARGET_E2E_MS ? 'pass' : 'FAIL'})`);
  console.log(`  stages (ms after last ACK + quiet period, medians): settled ${stageMedians.settled}, inference done ${stageMedians.inferred}, SR written ${stageMedians.srWritten}, delivered ${stageMedians.delivered}`);
  console.log(`studies/hour with ${IN_FLIGHT} in flight: ${perHour.toFixed(0)} (${THROUGHPUT_STUDIES} studies in ${seconds.toFixed(1)} s; the quiet period alone caps ${IN_FLIGHT} lanes at ${Math.round((IN_FLIGHT * 3_600_000) / QUIET_MS)}/h)`);
  console.log(
    JSON.stringify({
      bench: 'pipeline',
      quietPeriodMs: QUIET_MS,
      instancesPerStudy,
      e2e: { studies: LATENCY_STUDIES, medianMs: e2e, targetMs: TARGET_E2E_MS, pass: e2e <= TARGET_E2E_MS, stageMediansMs: stageMedians, runs: latencies },
      throughput: { inFlight: IN_FLIGHT, studies: THROUGHPUT_STUDIES, seconds, studiesPerHour: perHour },
      loadavg1: loadavg()[0],
      cpus: availableParallelism(),
    }),
  );
} finally {
  if (serve) {
    const gone = new Promise((r) => serve.once('exit', r));
    serve.kill('SIGKILL');
    await gone;
  }
  await orthanc?.stop();
  // Leave nothing in the shared Redis: the private prefix's queues go.
  const connection = createRedis(args['redis-url']);
  const queues = createPipelineQueues({ connection, prefix: queuePrefix });
  for (const q of Object.values(queues)) await q.queue.obliterate({ force: true });
  await closePipelineQueues(queues);
  connection.disconnect();
  await db.$disconnect();
  await scratch.drop();
  await rm(work, { recursive: true, force: true });
}
