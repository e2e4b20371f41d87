// Ingest benchmark: instances/s received by our durable SCP (fsync + Postgres row before each
// ACK) vs dcmtk storescp --fork (no fsync) vs a private Orthanc (SyncStorageArea), all fed by
// dcmtk storescu (TCP_NODELAY=1) in the same run, over 1 and over 4 parallel associations;
// then our SCP's peak RSS while receiving a ~2 GB study. Run after a build:
//   node bench/ingest/ingest.mjs [--instances 500] [--big-study-mb 2048] [--rounds 1] [--max-pdu <bytes>] [--timings]
// Every receiver announces the same maximum PDU length (ours' default unless --max-pdu), so the
// sender does the same work for each. --timings adds our per-step breakdown (median ms).
// Prints a table, the ratios, and one final JSON line.
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os, { tmpdir } from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSet } from './instances.mjs';
import { createDb, createScratchDatabase } from '@ldh/db';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]?.startsWith('--') ? '' : all[i + 1]]] : acc), []),
);
const INSTANCES = Number(args.instances ?? 500);
const BIG_STUDY_MB = Number(args['big-study-mb'] ?? 2048);
const LARGE_INSTANCES = Number(args['large-instances'] ?? 8);
const ROUNDS = Number(args.rounds ?? 1);
const ADMIN_URL = args['database-url'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const MAX_PDU = args['max-pdu'] === undefined ? undefined : Number(args['max-pdu']);
const TIMINGS = 'timings' in args;
// Unmeasured instances per receiver before the rounds. Our SCP is JavaScript: V8 keeps compiling
// the per-instance code path with TurboFan (on its helper threads) for the first ~1,000–2,000
// instances — about 1–2.5 ms of CPU per instance early on, ~0.7 ms after 2,000 — a one-off cost
// per process start that a long-running service does not pay per instance. storescp --fork and
// Orthanc (C++) have no such phase; they get the same warm-up anyway.
const WARMUP = Number(args.warmup ?? 1000);
const here = fileURLToPath(new URL('.', import.meta.url));
const nodelay = { ...process.env, TCP_NODELAY: '1' };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function run(cmd, argv, env = nodelay) {
  return new Promise((resolve) => {
    const p = spawn(cmd, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d.toString()));
    p.once('close', (code) => resolve({ code, err }));
  });
}

async function waitForEcho(port, aet) {
  for (let i = 0; i < 100; i++) {
    const r = await run('echoscu', ['-aec', aet, '127.0.0.1', String(port)]);
    if (r.code === 0) return;
    await sleep(100);
  }
  throw new Error(`no C-ECHO answer on port ${port}`);
}

/** Sends `files` over `assocs` parallel storescu associations; returns instances/s (all must succeed). */
async function send(port, aec, files, assocs) {
  const parts = Array.from({ length: assocs }, (_, k) => files.filter((_, i) => i % assocs === k));
  const t0 = process.hrtime.bigint();
  const results = await Promise.all(parts.map((p) => run('storescu', ['-aet', 'BENCHSCU', '-aec', aec, '-xe', '127.0.0.1', String(port), ...p])));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const failed = results.filter((r) => r.code !== 0);
  if (failed.length > 0) throw new Error(`storescu failed: ${failed[0].err.slice(-500)}`);
  return files.length / seconds;
}

/** CPU seconds (user + system) used so far by a process, from /proc (Linux). */
async function cpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime in clock ticks (USER_HZ = 100)
}

/**
 * CPU seconds used so far by every process named `comm` plus the children they reaped (utime +
 * stime + cutime + cstime): covers storescp's forked children (running, zombie or reaped) and
 * Postgres' backends. Processes that exit unreaped by a process of that name are missed.
 */
async function cpuSecondsOf(comm) {
  let ticks = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (!stat.startsWith(`${pid} (${comm})`)) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / 100;
}

/** CPU seconds of the storescu senders this process has spawned and reaped so far. */
async function childCpuSeconds() {
  const stat = await readFile('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / 100; // cutime + cstime
}

function peakRssMb(pid) {
  return readFile(`/proc/${pid}/status`, 'utf8').then((s) => {
    const kb = (re) => Number(re.exec(s)?.[1] ?? 0);
    return { hwm: kb(/VmHWM:\s+(\d+)/) / 1024, rss: kb(/VmRSS:\s+(\d+)/) / 1024 };
  });
}

// ---------------------------------------------------------------- receivers

/** Extra node flags for our SCP child (e.g. `LDH_BENCH_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=prof"`). */
function childNodeArgs() {
  return (process.env.LDH_BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean);
}

async function startOurs(work) {
  const scratch = await createScratchDatabase(ADMIN_URL, 'ldh_bench');
  const root = join(work, 'ours');
  const childArgs = [...(MAX_PDU ? ['--max-pdu', String(MAX_PDU)] : []), ...(TIMINGS ? ['--timings'] : [])];
  const proc = spawn(process.execPath, [...childNodeArgs(), join(here, 'scp-child.mjs'), root, scratch.url, ...childArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const timingWaiters = [];
  const { port, maxPdu } = await new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      out += d.toString();
      const m = /LISTENING (\d+) MAXPDU (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), maxPdu: Number(m[2]) });
      let t;
      while ((t = /TIMINGS (.*)\n/.exec(out))) {
        out = out.slice(t.index + t[0].length);
        timingWaiters.shift()?.(JSON.parse(t[1]));
      }
    });
    proc.once('exit', (c) => reject(new Error(`our SCP exited ${c}`)));
  });
  const db = createDb(scratch.url);
  return {
    name: 'ours (fsync + Postgres)',
    key: 'ours',
    port,
    aec: 'LDH',
    proc,
    maxPdu,
    /** Per-step medians since the last call (only with --timings). */
    timings: () =>
      new Promise((resolve) => {
        timingWaiters.push(resolve);
        proc.kill('SIGUSR2');
      }),
    cpu: () => cpuSeconds(proc.pid),
    count: async () => db.instance.count(),
    stop: async () => {
      const exited = proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
      await db.$disconnect();
      await scratch.drop();
    },
  };
}

async function startStorescp(work, maxPdu) {
  const dir = join(work, 'storescp');
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const proc = spawn('storescp', ['--fork', '--max-pdu', String(maxPdu), '-od', dir, '-aet', 'STORESCP', String(port)], { env: nodelay, stdio: 'ignore' });
  await waitForEcho(port, 'STORESCP');
  return {
    name: 'dcmtk storescp --fork (no fsync)',
    key: 'storescp',
    port,
    aec: 'STORESCP',
    cpu: () => cpuSecondsOf('storescp'),
    count: async () => (await readdir(dir)).length,
    stop: async () => {
      proc.kill('SIGTERM');
      await sleep(200);
    },
  };
}

async function startOrthanc(work, maxPdu) {
  const dir = join(work, 'orthanc');
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const httpPort = await freePort();
  const config = {
    Name: 'ldh-bench',
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'index'),
    DicomAet: 'ORTHANC',
    DicomPort: port,
    HttpPort: httpPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    SyncStorageArea: true,
    MaximumPduLength: maxPdu,
    DicomCheckCalledAet: false,
    Plugins: [],
  };
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  const proc = spawn('Orthanc', [join(dir, 'config.json')], { env: nodelay, stdio: 'ignore' });
  await waitForEcho(port, 'ORTHANC');
  return {
    name: 'Orthanc (SyncStorageArea)',
    key: 'orthanc',
    port,
    aec: 'ORTHANC',
    cpu: () => cpuSecondsOf('Orthanc'),
    count: async () => {
      const r = await fetch(`http://127.0.0.1:${httpPort}/statistics`);
      return (await r.json()).CountInstances;
    },
    stop: async () => {
      const exited = proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

// ---------------------------------------------------------------- main

/** CPU ms to sha256 one 0.5 MB instance in this process (median of 5 × 200). */
function sha256Ms() {
  const buf = randomBytes(512 * 512 * 2);
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < 200; i++) createHash('sha256').update(buf).digest();
    const c = process.cpuUsage(c0);
    runs.push((c.user + c.system) / 1000 / 200);
  }
  return runs.sort((a, b) => a - b)[2];
}
const shaMs = sha256Ms();

const work = await mkdtemp(join(tmpdir(), 'ldh-bench-ingest-'));
const results = { ours: {}, storescp: {}, orthanc: {} };
/** CPU ms per instance of each receiver, of the storescu senders and of Postgres, per round. */
const cpuMs = {};
const stepTimings = {};
/** Started receivers, stopped at the end or when the run fails (no stray storescp/Orthanc/SCP). */
const running = [];
try {
  process.stderr.write(`generating ${INSTANCES} x 0.5 MB instances per set ...\n`);
  const oursReceiver = await startOurs(work);
  running.push(oursReceiver);
  // dcmtk and Orthanc accept 4096..131072: the same value for all three unless ours is outside that.
  const peerMaxPdu = Math.min(131072, Math.max(4096, oursReceiver.maxPdu));
  running.push(await startStorescp(work, peerMaxPdu));
  running.push(await startOrthanc(work, peerMaxPdu));
  const receivers = [...running];
  const expected = Object.fromEntries(receivers.map((r) => [r.key, 0]));
  // Warm-up (not measured): connections, JIT, first fan-out directories, Orthanc's index.
  const warm = await makeSet(join(work, 'warm'), WARMUP);
  for (const r of receivers) {
    await send(r.port, r.aec, warm, 4);
    expected[r.key] += warm.length;
  }
  const setDirs = [join(work, 'warm')];
  if (TIMINGS) await oursReceiver.timings(); // drop the warm-up's
  for (let round = 0; round < ROUNDS; round++) {
    for (const assocs of [1, 4]) {
      const files = await makeSet(join(work, `set-${round}-${assocs}`), INSTANCES);
      // Same files to every receiver, interleaved so machine-load drift hits all of them alike.
      for (const r of receivers) {
        const cpu0 = [await r.cpu(), await childCpuSeconds(), await cpuSecondsOf('postgres')];
        const rate = await send(r.port, r.aec, files, assocs);
        const cpu1 = [await r.cpu(), await childCpuSeconds(), await cpuSecondsOf('postgres')];
        const perInstance = cpu1.map((c, i) => ((c - cpu0[i]) * 1000) / files.length);
        ((cpuMs[r.key] ??= {})[assocs] ??= []).push({ receiver: perInstance[0], sender: perInstance[1], postgres: perInstance[2] });
        if (r.timings && TIMINGS) (stepTimings[assocs] ??= []).push(await r.timings());
        expected[r.key] += files.length;
        const got = await r.count();
        if (got !== expected[r.key]) throw new Error(`${r.key}: ${got} instances stored, expected ${expected[r.key]}`);
        (results[r.key][assocs] ??= []).push(rate);
        process.stderr.write(`round ${round + 1}: ${r.name}, ${assocs} assoc: ${rate.toFixed(1)}/s\n`);
      }
      // Kept until the end: on ext4 without a journal (this VM) every file creation within ~60 s
      // of a deletion scans the recently deleted inodes of its block group, so deleting a set
      // here would tax whichever receiver runs next (all of them create one file per instance).
      setDirs.push(join(work, `set-${round}-${assocs}`));
    }
  }
  for (const d of setDirs) await rm(d, { recursive: true, force: true });

  // Peak RSS of our SCP while it receives a ~2 GB study (4 parallel associations), then a few
  // 128 MiB instances (streamed to temp files and validated through a window, not read back).
  const ours = receivers[0];
  /** Sends `files` to our SCP over 4 associations, sampling its RSS; VmHWM is the process's peak so far. */
  const measureRss = async (files) => {
    const before = await peakRssMb(ours.proc.pid);
    let sampledMax = 0;
    const sampler = setInterval(() => {
      peakRssMb(ours.proc.pid).then((m) => (sampledMax = Math.max(sampledMax, m.rss)), () => undefined);
    }, 100);
    const rate = await send(ours.port, ours.aec, files, 4);
    clearInterval(sampler);
    return { rate, before, after: await peakRssMb(ours.proc.pid), sampledMax };
  };
  const bigCount = Math.ceil((BIG_STUDY_MB * 1024 * 1024) / (512 * 512 * 2 + 1200));
  let big;
  if (bigCount > 0) {
    process.stderr.write(`generating a ${BIG_STUDY_MB} MB study (${bigCount} instances) ...\n`);
    big = await measureRss(await makeSet(join(work, 'big'), bigCount));
    await rm(join(work, 'big'), { recursive: true, force: true });
  }
  let large;
  if (LARGE_INSTANCES > 0) {
    process.stderr.write(`generating ${LARGE_INSTANCES} instances of 128 MiB ...\n`);
    large = await measureRss(await makeSet(join(work, 'large'), LARGE_INSTANCES, 8192));
    await rm(join(work, 'large'), { recursive: true, force: true });
  }
  for (const r of running.splice(0)) await r.stop();

  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const row = (k) => ({ one: med(results[k][1]), four: med(results[k][4]) });
  const o = row('ours');
  const s = row('storescp');
  const h = row('orthanc');
  const fmt = (x) => x.toFixed(1).padStart(10);
  console.log(`\ningest: ${INSTANCES} x 0.5 MB MR instances sent by storescu (TCP_NODELAY=1), ${ROUNDS} round(s), median instances/s`);
  console.log(`max PDU announced: ours ${ours.maxPdu} B, storescp --max-pdu ${peerMaxPdu} B, Orthanc MaximumPduLength ${peerMaxPdu} B`);
  console.log(`${'receiver'.padEnd(36)}${'1 assoc'.padStart(10)}${'4 assoc'.padStart(10)}`);
  for (const [name, r] of [
    ['ours (fsync + Postgres row)', o],
    ['dcmtk storescp --fork (no fsync)', s],
    ['Orthanc 1.10 (SyncStorageArea)', h],
  ]) {
    console.log(`${name.padEnd(36)}${fmt(r.one)}${fmt(r.four)}`);
  }
  console.log(`ours / storescp: ${(o.one / s.one).toFixed(2)}x (1 assoc, target >= 0.5)  ${(o.four / s.four).toFixed(2)}x (4 assoc, target >= 1.0)`);
  console.log(`ours / Orthanc:  ${(o.one / h.one).toFixed(2)}x (1 assoc, target > 1)     ${(o.four / h.four).toFixed(2)}x (4 assoc, target > 1)`);
  // Where the 2 cores go: CPU ms per instance (median over rounds) of the receiver, the storescu
  // senders and Postgres (all its processes: our rows, plus whatever else it runs meanwhile).
  const cpuRow = (k, a) => {
    const rows = cpuMs[k][a];
    return Object.fromEntries(['receiver', 'sender', 'postgres'].map((f) => [f, med(rows.map((x) => x[f]))]));
  };
  const cpu = Object.fromEntries(receivers.map((r) => [r.key, { one: cpuRow(r.key, 1), four: cpuRow(r.key, 4) }]));
  console.log(`CPU ms per instance (receiver / storescu senders / postgres), 1 assoc | 4 assoc:`);
  for (const r of receivers) {
    const f = (c) => [c.receiver, c.sender, c.postgres].map((x) => x.toFixed(2)).join(' / ');
    console.log(`  ${r.key.padEnd(10)} ${f(cpu[r.key].one).padEnd(24)} | ${f(cpu[r.key].four)}`);
  }
  // A CPU-budget ceiling for the 4-association ratio (a model, not a measurement): were our
  // receiver to cost exactly storescp's CPU per instance plus only what durability and the audit
  // row require on top — hashing the instance (sha256 of 0.5 MB, timed here) and the Postgres
  // work measured above — then, with the cores saturated as they are at 4 associations, ours
  // could reach at most (storescp + senders) / (storescp + senders + sha256 + postgres).
  const sc = cpu.storescp.four;
  const base = sc.receiver + sc.sender;
  const ceiling = base / (base + shaMs + cpu.ours.four.postgres);
  console.log(
    `CPU-budget ceiling at 4 assoc: ${ceiling.toFixed(2)}x storescp (storescp + senders ${base.toFixed(2)} ms/instance, + sha256 ${shaMs.toFixed(2)} ms + postgres ${cpu.ours.four.postgres.toFixed(2)} ms), machine: ${os.cpus().length} CPUs`,
  );
  if (TIMINGS) {
    // Medians over rounds of each round's per-instance median (ms). sender: from our response to
    // the next command on that association; receive: command to last dataset byte; write/place/
    // commit run in parallel from the end of parse; total = last dataset byte to response.
    const keys = ['sender', 'receive', 'parse', 'write', 'place', 'commit', 'total'];
    console.log(`our per-step median ms: ${keys.join(' / ')}`);
    for (const a of [1, 4]) {
      const rows = stepTimings[a] ?? [];
      console.log(`  ${a} assoc: ${keys.map((k) => med(rows.map((t) => t[k]?.p50 ?? NaN)).toFixed(2)).join(' / ')}`);
    }
  }
  if (big) {
    console.log(
      `our SCP receiving a ${BIG_STUDY_MB} MB study (${bigCount} instances, 4 assoc, ${big.rate.toFixed(1)}/s): peak RSS ${big.after.hwm.toFixed(0)} MB (VmHWM; ${big.before.rss.toFixed(0)} MB before, max sampled ${big.sampledMax.toFixed(0)} MB)`,
    );
  }
  if (large) {
    console.log(
      `our SCP receiving ${LARGE_INSTANCES} instances of 128 MiB (4 assoc, ${large.rate.toFixed(1)}/s): peak RSS ${large.after.hwm.toFixed(0)} MB (VmHWM over the whole run; ${large.before.rss.toFixed(0)} MB before, max sampled ${large.sampledMax.toFixed(0)} MB)`,
    );
  }
  console.log(
    JSON.stringify({
      bench: 'ingest',
      instances: INSTANCES,
      instanceBytes: 512 * 512 * 2,
      rounds: ROUNDS,
      perSecond: { ours: o, storescp: s, orthanc: h },
      ratios: {
        oursVsStorescp: { one: o.one / s.one, four: o.four / s.four },
        oursVsOrthanc: { one: o.one / h.one, four: o.four / h.four },
      },
      cpuMsPerInstance: cpu,
      sha256MsPerInstance: shaMs,
      ceilingFourVsStorescp: ceiling,
      cpus: os.cpus().length,
      maxPdu: { ours: ours.maxPdu, peers: peerMaxPdu },
      ...(TIMINGS ? { oursStepMs: stepTimings } : {}),
      bigStudy: big ? { megabytes: BIG_STUDY_MB, instances: bigCount, perSecond: big.rate, peakRssMb: big.after.hwm, rssBeforeMb: big.before.rss } : null,
      largeInstances: large ? { count: LARGE_INSTANCES, megabytesEach: 128, peakRssMb: large.after.hwm, maxSampledRssMb: large.sampledMax } : null,
    }),
  );
} finally {
  for (const r of running.splice(0)) await r.stop().catch(() => undefined);
  await rm(work, { recursive: true, force: true });
}
