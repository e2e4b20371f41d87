/**
 * The walking skeleton, end to end with real peers: dcmtk `storescu` sends a synthetic lumbar
 * MRI to `ldh serve` (a child process running the built CLI), the SR arrives in a real Orthanc,
 * the audit trail shows every transition in order, logs carry no PHI, and SIGTERM exits cleanly.
 * Needs `npm run build` first (npm test does it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createScratchDatabase, listStudyAudit, type Db } from '@ldh/db';
import { readPart10, str } from '@ldh/dicom';
import { writePhantomDataset } from '@ldh/phantom';
import { freePort, startOrthanc, type DestinationService } from './services.js';

const cli = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.LDH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.dcm') ? [p] : [];
  });
}

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
let orthanc: DestinationService;
let serve: ChildProcess;
let logs = '';
let exitCode: number | null = null;
let exitResolve: (code: number | null) => void = () => undefined;
const exited = new Promise<number | null>((resolve) => {
  exitResolve = resolve;
});
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-e2e-'));
let scpPort = 0;

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first`);
  scratch = await createScratchDatabase(adminUrl);
  db = createDb(scratch.url);
  const o = await startOrthanc();
  if (!o) throw new Error('Orthanc is not installed (apt-get install orthanc)');
  orthanc = o;
  scpPort = await freePort();
  const dashboardPort = await freePort();
  serve = spawn(process.execPath, [cli, 'serve'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: scratch.url,
      REDIS_URL: redisUrl,
      LDH_QUEUE_PREFIX: `ldh-e2e-${process.pid}-${Date.now()}`,
      LDH_STORAGE_DIR: path.join(tmp, 'storage'),
      LDH_SCP_HOST: '127.0.0.1',
      LDH_SCP_PORT: String(scpPort),
      LDH_ALLOWED_PEERS: 'STORESCU@127.0.0.1',
      LDH_QUIET_PERIOD_MS: '1500',
      LDH_MIN_FREE_BYTES: String(64 * 1024 ** 2),
      LDH_HTTP_HOST: '127.0.0.1',
      LDH_HTTP_PORT: '0',
      LDH_DESTINATIONS: `orthanc=ORTHANC@127.0.0.1:${orthanc.port}`,
      // Plain `ldh serve` includes the dashboard role: a session key and a free port for it.
      LDH_DASHBOARD_PORT: String(dashboardPort),
      LDH_DASHBOARD_SECRET: 'serve-int-test-session-key-0123456789abcdef',
      LDH_DASHBOARD_SECURE_COOKIE: 'false',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  serve.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  serve.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  serve.on('exit', (code) => {
    exitCode = code;
    exitResolve(code);
  });
  const until = Date.now() + 60_000;
  while (!logs.includes('ldh serving')) {
    if (exitCode !== null) throw new Error(`ldh serve exited early (${exitCode}):\n${logs}`);
    if (Date.now() > until) throw new Error(`ldh serve did not start:\n${logs}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  if (serve && exitCode === null) serve.kill('SIGKILL');
  await orthanc?.stop();
  await db?.$disconnect();
  await scratch?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('ldh serve, end to end', () => {
  let studyUid = '';
  let patient = { name: '', id: '', birth: '' };

  it('takes a study from storescu and stores an SR for it in Orthanc', async () => {
    const data = await writePhantomDataset({ outDir: path.join(tmp, 'phantom'), count: 1, seed: 4242, levels: 'L4-L5:extrusion' });
    const study = data.studies[0]!;
    studyUid = study.studyInstanceUid;
    const first = files(study.dir)[0]!;
    const { dataset } = readPart10(readFileSync(first), { headerOnly: true });
    patient = { name: str(dataset, 'PatientName') ?? '', id: str(dataset, 'PatientID') ?? '', birth: str(dataset, 'PatientBirthDate') ?? '' };

    const send = spawnSync('storescu', ['-aet', 'STORESCU', '-aec', 'LDH_TRIAGE', '+sd', '+r', '127.0.0.1', String(scpPort), study.dir], {
      env: { ...process.env, TCP_NODELAY: '1' },
      encoding: 'utf8',
    });
    expect(send.status, send.stderr).toBe(0);
    expect(await db.instance.count({ where: { study: { studyInstanceUid: studyUid } } })).toBe(study.instanceCount);

    // Wait for the SR to land in Orthanc (it carries the source StudyInstanceUID).
    const base = orthanc.location;
    let srSeries: Array<{ MainDicomTags: { Modality?: string } }> = [];
    const until = Date.now() + 90_000;
    while (Date.now() < until) {
      const found = (await (await fetch(`${base}/tools/find`, { method: 'POST', body: JSON.stringify({ Level: 'Study', Query: { StudyInstanceUID: studyUid } }) })).json()) as string[];
      if (found[0]) {
        const series = (await (await fetch(`${base}/studies/${found[0]}/series`)).json()) as Array<{ MainDicomTags: { Modality?: string } }>;
        srSeries = series.filter((s) => s.MainDicomTags.Modality === 'SR');
        if (srSeries.length > 0) break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(srSeries.length, logs.slice(-3000)).toBe(1);
    const row = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: studyUid } });
    const report = await db.report.findFirstOrThrow({ where: { studyId: row.id } });
    expect(await orthanc.has(report.srSopInstanceUid)).toBe(true);
  });

  it('audits every transition, in order', async () => {
    const until = Date.now() + 30_000;
    let actions: string[] = [];
    while (Date.now() < until) {
      actions = (await listStudyAudit(db, studyUid)).filter((a) => a.entityType === 'study').map((a) => a.action);
      if (actions.includes('study.done')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(actions).toEqual(['study.receiving', 'study.settled', 'study.routed', 'study.inferring', 'study.reporting', 'study.delivering', 'study.done']);
    const all = (await listStudyAudit(db, studyUid)).map((a) => a.action);
    for (const a of ['inference.started', 'inference.succeeded', 'report.written', 'delivery.delivered']) expect(all).toContain(a);
  });

  it('logs JSON without patient name, ID or birth date', () => {
    const lines = logs.split('\n').filter((l) => l.trim().length > 0);
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
    expect(patient.id.length).toBeGreaterThan(0);
    for (const phi of [patient.name, patient.id, patient.birth].filter((v) => v.length > 3)) expect(logs).not.toContain(phi);
  });

  it('serves /metrics, /healthz and /readyz for all its roles on one port', async () => {
    const url = /"http":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(logs)?.[1];
    expect(url, logs.slice(-2000)).toBeDefined();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    const body = (await ready.json()) as { checks: Record<string, unknown> };
    expect(ready.status, JSON.stringify(body)).toBe(200);
    expect(Object.keys(body.checks)).toEqual(expect.arrayContaining(['scp.listening', 'worker.model', 'writer.redis']));
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/ldh_studies\{state="done"\} 1/);
    expect(metrics).toMatch(/ldh_delivery_attempts_total\{destination="orthanc",outcome="delivered"\} 1/);
    // No patient field in any label or value.
    for (const phi of [patient.name, patient.id].filter((v) => v.length > 3)) expect(metrics).not.toContain(phi);
  });

  it('stops cleanly on SIGTERM', async () => {
    serve.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
    expect(code, logs.slice(-2000)).toBe(0);
    expect(logs).toContain('stopped cleanly');
  });
});
