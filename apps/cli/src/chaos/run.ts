/**
 * The chaos suite: `ldh serve` as three role processes beside a private Redis and a private
 * Orthanc; each cycle sends 1–3 phantom studies with storescu while one seeded fault hits (kill -9
 * of a role, Redis killed or flushed, the PACS down for a long outage, our Postgres connections
 * terminated), waits until every study is terminal, and checks the invariants. Used by
 * `npm run chaos` (bench/chaos) and by the short int test.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDb, createScratchDatabase, type Db } from '@ldh/db';
import { readPart10, str } from '@ldh/dicom';
import { writePhantomDataset } from '@ldh/phantom';
import { createRedis } from '@ldh/queue';
import { runDoctor } from '../doctor.js';
import { freePort } from '../services.js';
import { checkInstances, checkSrs, checkStates, waitForTerminal, type AckedInstance } from './checks.js';
import { ChaosOrthanc, ChaosRedis, RoleProcess, ROLE_NAMES, type RoleName } from './cluster.js';
import { storescu } from './send.js';

export const FAULTS = ['kill-scp', 'kill-worker', 'kill-writer', 'redis-kill', 'redis-flush', 'pacs-outage', 'pg-terminate'] as const;
export type FaultName = (typeof FAULTS)[number];

export interface ChaosOptions {
  /** The built CLI (apps/cli/dist/main.js). */
  cli: string;
  /** Repository root (for models/placeholder-v0.json). */
  repoRoot: string;
  cycles: number;
  seed: number;
  /** Faults to draw from (default all). */
  faults?: readonly FaultName[];
  /** `random` draws each cycle's fault from the seeded PRNG; `round-robin` takes them in order. */
  order?: 'random' | 'round-robin';
  /** Postgres server for the scratch database (never stopped; only our connections are terminated). */
  adminUrl: string;
  /** Most studies per cycle (1..3). */
  maxStudies?: number;
  /** How long a "long" PACS outage lasts, compressed (ms). */
  outageMs?: number;
  /** Bound on the wait for every study of a cycle to be terminal (ms). */
  cycleTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface CycleResult {
  cycle: number;
  fault: FaultName;
  /** ms after the sends began when the fault hit. */
  faultAtMs: number;
  studies: number;
  acked: number;
  lost: number;
  identical: number;
  srKeys: number;
  maxSrPerKey: number;
  doneWithoutSr: number;
  stuck: number;
  doctorFound: number;
  states: Record<string, number>;
  /** From the fault to every study terminal (ms); null when the bound passed first. */
  recoveryMs: number | null;
  problems: string[];
}

export interface ChaosResult {
  seed: number;
  cycles: CycleResult[];
  final: { acked: number; lost: number; maxSrPerKey: number; doneWithoutSr: number; stuck: number; doctorFound: number; states: Record<string, number>; problems: string[] };
  violations: number;
}

/** mulberry32: a small seeded PRNG (same seed, same faults and delays). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function dicomFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((f) => {
      const p = path.join(dir, f);
      return statSync(p).isDirectory() ? dicomFiles(p) : p.endsWith('.dcm') ? [p] : [];
    })
    .sort();
}

/** A cycle's violations: lost instances, more (or fewer, for done studies) than one SR per key, stuck studies. */
export function violationsOf(r: { lost: number; maxSrPerKey: number; doneWithoutSr: number; stuck: number; doctorFound: number }): number {
  return r.lost + Math.max(0, r.maxSrPerKey - 1) + r.doneWithoutSr + r.stuck + r.doctorFound;
}

/** The table (one row per cycle, then totals) and the final JSON line. */
export function formatChaosTable(result: ChaosResult): string {
  const head = ['cycle', 'fault', 'at ms', 'studies', 'ACKed', 'lost', 'SRs/key max', 'stuck', 'doctor', 'final states', 'recovery s'];
  const rows = result.cycles.map((c) => [
    String(c.cycle),
    c.fault,
    String(c.faultAtMs),
    String(c.studies),
    String(c.acked),
    String(c.lost),
    String(c.maxSrPerKey),
    String(c.stuck),
    String(c.doctorFound),
    Object.entries(c.states)
      .map(([k, v]) => `${k}:${v}`)
      .join(' '),
    c.recoveryMs === null ? 'TIMEOUT' : (c.recoveryMs / 1000).toFixed(1),
  ]);
  const recoveries = result.cycles.map((c) => c.recoveryMs).filter((x): x is number => x !== null);
  rows.push([
    'total',
    `${result.cycles.length} faults`,
    '',
    String(result.cycles.reduce((n, c) => n + c.studies, 0)),
    String(result.final.acked),
    String(result.final.lost),
    String(result.final.maxSrPerKey),
    String(result.final.stuck),
    String(result.final.doctorFound),
    Object.entries(result.final.states)
      .map(([k, v]) => `${k}:${v}`)
      .join(' '),
    recoveries.length ? `max ${(Math.max(...recoveries) / 1000).toFixed(1)}` : '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  const problems = [...result.cycles.flatMap((c) => c.problems.map((p) => `cycle ${c.cycle}: ${p}`)), ...result.final.problems.map((p) => `final: ${p}`)];
  if (problems.length) out.push('', ...problems);
  out.push(
    '',
    JSON.stringify({
      seed: result.seed,
      cycles: result.cycles.length,
      studies: result.cycles.reduce((n, c) => n + c.studies, 0),
      instancesAcked: result.final.acked,
      instancesLost: result.final.lost,
      maxSrPerKey: result.final.maxSrPerKey,
      doneWithoutSr: result.final.doneWithoutSr,
      studiesStuck: result.final.stuck,
      doctorFound: result.final.doctorFound,
      states: result.final.states,
      recoveryMsMax: recoveries.length ? Math.max(...recoveries) : null,
      recoveryMsMedian: recoveries.length ? [...recoveries].sort((a, b) => a - b)[Math.floor(recoveries.length / 2)] : null,
      faults: Object.fromEntries(FAULTS.map((f) => [f, result.cycles.filter((c) => c.fault === f).length]).filter(([, n]) => n)),
      violations: result.violations,
    }),
  );
  return `${out.join('\n')}\n`;
}

/** Run the suite. Everything it starts is stopped and removed before it returns (or throws). */
export async function runChaos(opts: ChaosOptions): Promise<ChaosResult> {
  const log = opts.log ?? (() => undefined);
  const faults = opts.faults ?? FAULTS;
  const rand = prng(opts.seed);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-chaos-'));
  const scratch = await createScratchDatabase(opts.adminUrl, 'ldh_chaos');
  let db: Db | null = null;
  const redis = new ChaosRedis(await freePort(), path.join(tmp, 'redis'));
  const orthanc = new ChaosOrthanc(await freePort(), await freePort(), path.join(tmp, 'orthanc'));
  const storageDir = path.join(tmp, 'storage');
  const scpPort = await freePort();
  const roles = new Map<RoleName, RoleProcess>();
  try {
    db = createDb(scratch.url);
    await Promise.all([redis.start(), orthanc.start()]);
    const env: Record<string, string | undefined> = {
      PATH: process.env.PATH,
      DATABASE_URL: scratch.url,
      REDIS_URL: redis.url,
      LDH_QUEUE_PREFIX: 'ldh-chaos',
      LDH_STORAGE_DIR: storageDir,
      LDH_SCP_HOST: '127.0.0.1',
      LDH_SCP_PORT: String(scpPort),
      LDH_ALLOWED_PEERS: '*',
      LDH_QUIET_PERIOD_MS: '2500',
      LDH_MIN_FREE_BYTES: String(64 * 1024 ** 2),
      // Several role processes on one host: each binds /metrics on a free port of its own.
      LDH_HTTP_HOST: '127.0.0.1',
      LDH_HTTP_PORT: '0',
      LDH_RECONCILE_INTERVAL_MS: '2000',
      LDH_DESTINATIONS: `pacs=${orthanc.aeTitle}@127.0.0.1:${orthanc.dicomPort}`,
      LDH_MODEL_CARD: path.join(opts.repoRoot, 'models', 'placeholder-v0.json'),
      LDH_INFERENCE_LEASE_MS: '3000',
      LDH_DELIVERY_BACKOFF_BASE_MS: '300',
      LDH_DELIVERY_BACKOFF_MAX_MS: '2000',
      LDH_DELIVERY_TIMEOUT_MS: '3000',
      LDH_DELIVERY_LEASE_MS: '12000',
      LDH_DELIVERY_POLL_MS: '250',
      LOG_LEVEL: 'info',
    };
    for (const role of ROLE_NAMES) roles.set(role, new RoleProcess(role, opts.cli, env));
    // Downstream first, as `ldh serve` does in one process.
    for (const role of ['writer', 'worker', 'scp'] as const) await roles.get(role)!.start();
    log(`chaos: seed ${opts.seed}, ${opts.cycles} cycle(s), faults ${faults.join(', ')}; scratch database ${scratch.name}`);

    const allAcked: AckedInstance[] = [];
    const allStudies: string[] = [];
    const cycles: CycleResult[] = [];
    for (let cycle = 1; cycle <= opts.cycles; cycle++) {
      const fault = opts.order === 'round-robin' ? faults[(cycle - 1) % faults.length]! : faults[Math.floor(rand() * faults.length)]!;
      const count = 1 + Math.floor(rand() * Math.min(3, Math.max(1, opts.maxStudies ?? 3)));
      // Up to ~6 s after the sends begin: during ingest, settling, inference, report or delivery.
      const faultDelay = Math.floor(rand() * 6_000);
      const downMs = 300 + Math.floor(rand() * 1_500);
      const data = await writePhantomDataset({ outDir: path.join(tmp, 'phantom', `cycle-${cycle}`), count, seed: opts.seed * 1_000 + cycle, matrix: 128 });
      const studies = data.studies.map((s) => {
        const files = dicomFiles(s.dir).map((file) => {
          const bytes = readFileSync(file);
          const sop = str(readPart10(bytes, { headerOnly: true }).dataset, 'SOPInstanceUID') ?? '';
          return { file, sop, sha256: createHash('sha256').update(bytes).digest('hex') };
        });
        return { uid: s.studyInstanceUid, files, acked: new Set<string>() };
      });
      const started = Date.now();
      let faultAt = 0;
      let faultDone = false;
      const injected = (async () => {
        await sleep(faultDelay);
        faultAt = Date.now();
        await inject(fault, { roles, redis, orthanc, db: db!, dbName: scratch.name, downMs, outageMs: opts.outageMs ?? 8_000 });
        faultDone = true;
      })();
      // Each study's sender resends what was not ACKed (as a modality would) until all is ACKed.
      const sends = studies.map(async (s) => {
        for (let attempt = 0; attempt < 20; attempt++) {
          const missing = s.files.filter((f) => !s.acked.has(f.file)).map((f) => f.file);
          if (missing.length === 0) return;
          if (attempt > 0) {
            // Resend only once the fault is over (the SCP back), then with a short pause.
            while (!faultDone) await sleep(100);
            await sleep(500);
          }
          const r = await storescu(scpPort, missing);
          for (const f of r.acked) s.acked.add(f);
        }
        throw new Error(`study ${s.uid}: not every instance was ACKed after 20 sends`);
      });
      await Promise.all([...sends, injected]);
      const uids = studies.map((s) => s.uid);
      for (const s of studies) for (const f of s.files) if (s.acked.has(f.file)) allAcked.push({ sopInstanceUid: f.sop, fileSha256: f.sha256, studyInstanceUid: s.uid });
      allStudies.push(...uids);
      const terminalAt = await waitForTerminal(db, uids, opts.cycleTimeoutMs ?? 180_000);
      const cycleAcked = allAcked.filter((a) => uids.includes(a.studyInstanceUid));
      const result = await checkCycle(db, { storageDir, orthanc, acked: cycleAcked, studyUids: uids, redisUrl: redis.url, databaseUrl: scratch.url });
      const c: CycleResult = {
        cycle,
        fault,
        faultAtMs: faultAt - started,
        studies: uids.length,
        ...result,
        recoveryMs: terminalAt === null ? null : Math.max(0, terminalAt - faultAt),
      };
      if (terminalAt === null) c.problems.push(`not every study was terminal within ${opts.cycleTimeoutMs ?? 180_000} ms`);
      for (const role of roles.values()) for (const crash of role.process.crashes.splice(0)) c.problems.push(crash);
      cycles.push(c);
      log(
        `cycle ${cycle}: ${fault} at ${c.faultAtMs} ms, ${c.studies} stud${c.studies === 1 ? 'y' : 'ies'}, ${c.acked} ACKed, ${c.lost} lost, SRs/key ≤ ${c.maxSrPerKey}, ${c.stuck} stuck, recovery ${c.recoveryMs ?? 'TIMEOUT'} ms`,
      );
      if (violationsOf(c) > 0 || terminalAt === null) {
        for (const role of roles.values()) log(`--- ${role.role} log tail ---\n${role.process.logTail(25)}`);
      }
    }
    const fin = await checkCycle(db, { storageDir, orthanc, acked: allAcked, studyUids: allStudies, redisUrl: redis.url, databaseUrl: scratch.url });
    const final = { acked: fin.acked, lost: fin.lost, maxSrPerKey: fin.maxSrPerKey, doneWithoutSr: fin.doneWithoutSr, stuck: fin.stuck, doctorFound: fin.doctorFound, states: fin.states, problems: fin.problems.filter((p) => !/ ended (skipped|failed|delivery_failed) /.test(p)) };
    const violations = cycles.reduce((n, c) => n + violationsOf(c) + (c.recoveryMs === null ? 1 : 0), 0) + violationsOf(final);
    return { seed: opts.seed, cycles, final, violations };
  } finally {
    for (const role of roles.values()) await role.stop().catch(() => undefined);
    await orthanc.stop().catch(() => undefined);
    await redis.stop().catch(() => undefined);
    await db?.$disconnect().catch(() => undefined);
    await scratch.drop().catch(() => undefined);
    if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
  }
}

async function checkCycle(
  db: Db,
  ctx: { storageDir: string; orthanc: ChaosOrthanc; acked: AckedInstance[]; studyUids: string[]; redisUrl: string; databaseUrl: string },
): Promise<Omit<CycleResult, 'cycle' | 'fault' | 'faultAtMs' | 'studies' | 'recoveryMs'>> {
  // Our own connections may have been terminated by the fault: one retry on a fresh query.
  const retry = async <T>(f: () => Promise<T>): Promise<T> => f().catch(async () => (await sleep(500), f()));
  const inst = await retry(() => checkInstances(db, ctx.storageDir, ctx.acked));
  const srs = await retry(() => checkSrs(db, ctx.orthanc, ctx.studyUids));
  const states = await retry(() => checkStates(db, ctx.studyUids));
  const doctor = await retry(() => runDoctor({ DATABASE_URL: ctx.databaseUrl, REDIS_URL: ctx.redisUrl, LDH_QUEUE_PREFIX: 'ldh-chaos' }, { fix: false, json: true, minAgeMs: 0 }));
  return {
    acked: inst.acked,
    lost: inst.lost,
    identical: inst.identical,
    srKeys: srs.keys,
    maxSrPerKey: srs.maxSrPerKey,
    doneWithoutSr: srs.doneWithoutSr,
    stuck: states.stuck,
    doctorFound: doctor.found.length,
    states: states.states,
    problems: [...inst.problems, ...srs.problems, ...states.problems, ...doctor.found.map((f) => `doctor: ${f.studyInstanceUid} ${f.state} ${f.problem}: ${f.detail}`)],
  };
}

interface FaultTargets {
  roles: Map<RoleName, RoleProcess>;
  redis: ChaosRedis;
  orthanc: ChaosOrthanc;
  db: Db;
  dbName: string;
  /** How long a killed process stays down before its restart (ms). */
  downMs: number;
  outageMs: number;
}

/** Inject one fault and undo it (restart what was killed); returns once all is running again. */
async function inject(fault: FaultName, t: FaultTargets): Promise<void> {
  switch (fault) {
    case 'kill-scp':
    case 'kill-worker':
    case 'kill-writer': {
      const role = t.roles.get(fault.slice('kill-'.length) as RoleName)!;
      await role.kill();
      await sleep(t.downMs);
      await role.start();
      return;
    }
    case 'redis-kill':
      await t.redis.kill();
      await sleep(t.downMs);
      await t.redis.start();
      return;
    case 'redis-flush': {
      const r = createRedis(t.redis.url);
      try {
        await r.flushall();
      } finally {
        r.disconnect();
      }
      return;
    }
    case 'pacs-outage':
      await t.orthanc.stop();
      await sleep(t.outageMs);
      await t.orthanc.start();
      return;
    case 'pg-terminate':
      // Every connection to the scratch database but this one: the roles' pools and ours.
      await t.db.$queryRawUnsafe('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', t.dbName);
      return;
  }
}
