/**
 * `ldh deliveries list|replay` and `ldh studies list` run as a user runs them (the built CLI,
 * DATABASE_URL in the environment) against a real Postgres holding a dead delivery.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createReportWithOutbox, createScratchDatabase, listStudyAudit, syncDestinations, type Db } from '@ldh/db';

const cli = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

function ldh(args: string[]) {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first`);
  return spawnSync(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH ?? '', DATABASE_URL: scratch.url }, encoding: 'utf8', timeout: 30_000 });
}

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
const studyUid = '1.2.826.0.1.3680043.10.999.77';
let deadId = '';

beforeAll(async () => {
  scratch = await createScratchDatabase(adminUrl);
  db = createDb(scratch.url);
  await syncDestinations(db, [{ name: 'pacs', aeTitle: 'PACS', host: '127.0.0.1', port: 1 }, { name: 'archive', aeTitle: 'ARCH', host: '127.0.0.1', port: 2 }], 'test');
  const study = await db.study.create({ data: { studyInstanceUid: studyUid, state: 'delivery_failed', stateReason: 'delivery to pacs is dead: x', firstInstanceAt: new Date(), lastInstanceAt: new Date() } });
  const mv = await db.modelVersion.create({ data: { name: 't', version: '1', sha256: 'x', card: {} } });
  const run = await db.inferenceRun.create({ data: { studyId: study.id, modelVersionId: mv.id, idempotencyKey: 'k', inputHash: 'h', state: 'succeeded' } });
  const report = await createReportWithOutbox(db, { studyId: study.id, studyInstanceUid: studyUid, inferenceRunId: run.id, srSopInstanceUid: `${studyUid}.1`, srSeriesInstanceUid: `${studyUid}.2`, srStorageKey: 'k', srSha256: 's', actor: 'test' });
  const pacs = await db.destination.findUniqueOrThrow({ where: { name: 'pacs' } });
  deadId = report.deliveries.find((d) => d.destinationId === pacs.id)!.id;
  await db.delivery.update({ where: { id: deadId }, data: { state: 'dead', attempts: 1, lastError: 'association rejected by PACS: rejected-permanent (permanent)' } });
  await db.delivery.updateMany({ where: { id: { not: deadId } }, data: { state: 'delivered', attempts: 1, deliveredAt: new Date() } });
}, 60_000);

afterAll(async () => {
  await db?.$disconnect();
  await scratch?.drop();
});

describe('ldh deliveries / ldh studies list', () => {
  it('lists dead deliveries with their reason, as text and JSON', () => {
    const text = ldh(['deliveries', 'list', '--state', 'dead']);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain(`${deadId}  dead      dicom pacs  attempts 1`);
    expect(text.stdout).toContain('last error: association rejected by PACS: rejected-permanent (permanent)');
    const json = JSON.parse(ldh(['deliveries', 'list', '--state', 'dead', '--json']).stdout) as Array<{ id: string; studyState: string; kind: string }>;
    expect(json.map((d) => [d.id, d.studyState, d.kind])).toEqual([[deadId, 'delivery_failed', 'dicom']]);
    expect(ldh(['deliveries', 'list', '--kind', 'hl7']).stdout).toBe('no deliveries\n');
    expect(ldh(['deliveries', 'list', '--state', 'bogus']).status).not.toBe(0);
  });

  it('lists studies by state', () => {
    const json = JSON.parse(ldh(['studies', 'list', '--state', 'delivery_failed', '--json']).stdout) as Array<{ studyInstanceUid: string; deliveries: Record<string, number> }>;
    expect(json).toEqual([expect.objectContaining({ studyInstanceUid: studyUid, deliveries: { dead: 1, delivered: 1 } })]);
    expect(ldh(['studies', 'list', '--state', 'done']).stdout).toBe('no studies\n');
  });

  it('replays every dead delivery of a destination, audited with the operator; the study is delivering again', async () => {
    const bad = ldh(['deliveries', 'replay']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('give delivery ids or --all-dead');
    const r = ldh(['deliveries', 'replay', '--all-dead', '--destination', 'pacs', '--operator', 'bob']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`replayed 1\n  ${deadId}  dicom pacs  study ${studyUid}`);
    expect((await db.delivery.findUniqueOrThrow({ where: { id: deadId } })).state).toBe('pending');
    expect((await db.study.findUniqueOrThrow({ where: { studyInstanceUid: studyUid } })).state).toBe('delivering');
    const audit = await listStudyAudit(db, studyUid);
    expect(audit.filter((a) => a.actor === 'bob').map((a) => a.action)).toEqual(['delivery.replayed', 'study.delivering']);
    const again = ldh(['deliveries', 'replay', deadId, '--operator', 'bob']);
    expect(again.status).toBe(1);
    expect(again.stdout).toContain(`${deadId}: state is pending, not dead`);
  });
});
