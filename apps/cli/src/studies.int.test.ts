/**
 * `ldh studies show` run as a user runs it (the built CLI, DATABASE_URL in the environment)
 * against a real Postgres holding a study whose routing decision was stored by the router.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createScratchDatabase, failStudy, listStudyAudit, loadStudySeriesRecords, markStudySettled, recordReceivedInstance, recordRoutingDecision, transitionStudy, type Db } from '@ldh/db';
import { newUid, routeStudy, seriesFactsFromRecords } from '@ldh/dicom';

const cli = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

function ldh(args: string[], env: Record<string, string> = {}) {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first`);
  return spawnSync(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30_000 });
}

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
const studyUid = newUid();
const series = {
  loc: { uid: newUid(), desc: 'AAHead_Scout', number: 1, iop: [0, 1, 0, 0, 0, -1], n: 3 },
  t1: { uid: newUid(), desc: 't1_tse_sag', number: 2, iop: [0, 1, 0, 0, 0, -1], n: 11 },
  t2: { uid: newUid(), desc: 't2_tse_sag', number: 3, iop: [0, 1, 0, 0, 0, -1], n: 11 },
  ax: { uid: newUid(), desc: 't2_tse_tra_mblock', number: 4, iop: [1, 0, 0, 0, 1, 0], n: 9 },
};

beforeAll(async () => {
  scratch = await createScratchDatabase(adminUrl);
  db = createDb(scratch.url);
  const at = new Date(Date.now() - 60_000);
  for (const s of Object.values(series)) {
    for (let k = 0; k < s.n; k++) {
      const sop = newUid();
      await recordReceivedInstance(db, {
        sopInstanceUid: sop,
        sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
        studyInstanceUid: studyUid,
        seriesInstanceUid: s.uid,
        transferSyntaxUid: '1.2.840.10008.1.2.1',
        modality: 'MR',
        seriesDescription: s.desc,
        seriesNumber: s.number,
        instanceNumber: k + 1,
        bodyPartExamined: 'LSPINE',
        imageOrientationPatient: s.iop,
        imagePositionPatient: s.iop[0] === 0 ? [-20 + 4 * k, -100, 150] : [-100, -100, -40 - 8 * k],
        sha256: sop.replace(/\D/g, '').padEnd(64, '0').slice(0, 64),
        sizeBytes: 1000,
        storageKey: `objects/ab/${k}`,
        callingAeTitle: 'TEST',
        receivedAt: at,
      });
    }
  }
  // Route on the database facts, store the decision and move the study as the route job does.
  const row = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: studyUid } });
  const decision = routeStudy((await loadStudySeriesRecords(db, row.id)).map(seriesFactsFromRecords));
  if (decision.kind !== 'route') throw new Error(decision.reason);
  await db.$transaction(async (tx) => {
    await transitionStudy(db, { studyId: row.id, from: ['receiving'], to: 'settled', actor: 'test' }, tx);
    await recordRoutingDecision(tx, { studyId: row.id, revision: 0, decision: { verdict: 'route', reason: null, roles: decision.roles, anatomy: decision.anatomy, series: decision.series, headerFailures: [] } });
    await transitionStudy(db, { studyId: row.id, from: ['settled'], to: 'routed', actor: 'test' }, tx);
  });
});

afterAll(async () => {
  await db?.$disconnect();
  await scratch?.drop();
});

describe('ldh studies show', () => {
  it('prints the state and each series with its role, score and why', () => {
    const r = ldh(['studies', 'show', studyUid], { DATABASE_URL: scratch.url });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Study ${studyUid}`);
    expect(r.stdout).toMatch(/state\s+routed \(revision 0\)/);
    expect(r.stdout).toContain('roles     t1_sag=series 2  t2_sag=series 3  t2_ax=series 4');
    expect(r.stdout).toMatch(/\n {2}4 +t2_tse_tra_mblock +axial +t2 +t2_ax +\d+ +accepted\n/);
    expect(r.stdout).toContain('- rejected: localizer by name (AAHEAD, SCOUT)');
    expect(r.stdout).toContain('anatomy   lumbar by BodyPartExamined: BodyPartExamined LSPINE');
  });

  it('prints the same as JSON with --json', () => {
    const r = ldh(['studies', 'show', studyUid, '--json'], { DATABASE_URL: scratch.url });
    expect(r.status).toBe(0);
    const view = JSON.parse(r.stdout) as { state: string; routing: { verdict: string; decision: { roles: Record<string, string>; series: Array<{ seriesInstanceUid: string; accepted: boolean; reasons: string[] }> } } };
    expect(view.state).toBe('routed');
    expect(view.routing.verdict).toBe('route');
    expect(view.routing.decision.roles).toEqual({ t1_sag: series.t1.uid, t2_sag: series.t2.uid, t2_ax: series.ax.uid });
    expect(view.routing.decision.series.find((s) => s.seriesInstanceUid === series.loc.uid)?.accepted).toBe(false);
  });

  it('says so for an unknown study and for a missing DATABASE_URL', () => {
    const unknown = ldh(['studies', 'show', '1.2.3.4'], { DATABASE_URL: scratch.url });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toBe('ldh: no study 1.2.3.4 in the database\n');
    const noDb = ldh(['studies', 'show', studyUid]);
    expect(noDb.status).toBe(2);
    expect(noDb.stderr).toContain('DATABASE_URL');
  });
});

describe('ldh studies show: the full view', () => {
  it('prints the timeline from the audit trail (each state, when, how long, who) and the empty runs/reports/deliveries', () => {
    const r = ldh(['studies', 'show', studyUid], { DATABASE_URL: scratch.url });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\nTimeline\n {2}receiving +\S+ +[\d.]+ (ms|s) +by \S+\n {2}settled +\S+ +[\d.]+ (ms|s) +by test\n {2}routed +\S+ +.+ so far +by test\n/);
    expect(r.stdout).toContain('Inference runs\n  none');
    expect(r.stdout).toContain('Deliveries\n  none');
    const json = ldh(['studies', 'show', studyUid, '--json'], { DATABASE_URL: scratch.url });
    const view = JSON.parse(json.stdout) as { timeline: Array<{ state: string; enteredAt: string; durationMs: number; current: boolean }>; inferenceRuns: unknown[]; deliveries: unknown[] };
    expect(view.timeline.map((t) => [t.state, t.current])).toEqual([['receiving', false], ['settled', false], ['routed', true]]);
    for (const t of view.timeline) expect(t.durationMs).toBeGreaterThanOrEqual(0);
    expect([view.inferenceRuns, view.deliveries]).toEqual([[], []]);
  });
});

describe('ldh studies retry', () => {
  it('refuses a study that is not failed (exit 1) and retries a failed one from its stage, audited with the operator', async () => {
    const refused = ldh(['studies', 'retry', studyUid, '--operator', 'eve'], { DATABASE_URL: scratch.url });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(`ldh: cannot retry study ${studyUid}: it is routed, not failed or delivery_failed\n`);

    // A settled study whose route job gave up: failed at route.
    const old = new Date(Date.now() - 60_000);
    const study = await db.study.create({ data: { studyInstanceUid: newUid(), firstInstanceAt: old, lastInstanceAt: old, instanceCount: 1 } });
    expect(await markStudySettled(db, { studyId: study.id, studyInstanceUid: study.studyInstanceUid, revision: 0, priority: 0 }, 15_000, 'test')).toBe(true);
    await db.jobIntent.updateMany({ where: { studyId: study.id }, data: { state: 'dispatched', jobId: `route-${study.id}-0` } });
    expect(await failStudy(db, { studyId: study.id, stage: 'route', reason: 'route job gave up after 5 attempt(s): EIO', lastError: 'EIO', actor: 'test' })).toBe(true);
    const failedView = ldh(['studies', 'show', study.studyInstanceUid], { DATABASE_URL: scratch.url });
    expect(failedView.stdout).toContain('failed    at route: EIO');

    const r = ldh(['studies', 'retry', study.studyInstanceUid, '--operator', 'eve'], { DATABASE_URL: scratch.url });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`study ${study.studyInstanceUid}: failed → settled; route job route-${study.id}-0-a1 pending (a running \`ldh serve\` dispatches it)\n`);
    const after = await db.study.findUniqueOrThrow({ where: { id: study.id }, include: { jobIntents: true } });
    expect([after.state, after.failedStage, after.jobIntents.map((i) => [i.state, i.attempt])]).toEqual(['settled', null, [['pending', 1]]]);
    expect((await listStudyAudit(db, study.studyInstanceUid)).at(-1)).toMatchObject({ action: 'study.retried', actor: 'eve', details: { from: 'failed', to: 'settled', stage: 'route', operator: 'eve' } });
  });
});
