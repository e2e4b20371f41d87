import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createIngestSink, createScratchDatabase, listStudyAudit, type Db } from '@ldh/db';

const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;

beforeAll(async () => {
  scratch = await createScratchDatabase(adminUrl, 'ldh_ingest');
  db = createDb(scratch.url);
});
afterAll(async () => {
  await db?.$disconnect();
  await scratch?.drop();
});

const base = {
  sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
  studyInstanceUid: '1.2.826.0.1.3680043.10.9.1',
  seriesInstanceUid: '1.2.826.0.1.3680043.10.9.1.1',
  transferSyntaxUid: '1.2.840.10008.1.2.1',
  sizeBytes: 524_288,
  callingAeTitle: 'STORESCU',
  calledAeTitle: 'LDH',
  remoteAddress: '127.0.0.1',
  modality: 'MR',
  seriesDescription: 'T2 SAG',
  seriesNumber: 3,
  bodyPartExamined: 'LSPINE',
  imageOrientationPatient: [0, 1, 0, 0, 0, -1],
  imagePositionPatient: [-10.5, -100, 100.25],
  rows: 512,
  columns: 512,
};

describe.each([
  ['through Prisma', false],
  ['over a dedicated pg pool', true],
] as const)('createIngestSink (Postgres) %s', (_label, usePool) => {
  const sinkOpts = (extra: { maxPendingCommits?: number } = {}) => ({ actor: 'test', ...extra, ...(usePool ? { databaseUrl: scratch.url } : {}) });
  const sinks: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    for (const s of sinks) await s.close();
  });
  const uid = (s: string): string => `${s}.${usePool ? 2 : 1}`;
  const b = { ...base, studyInstanceUid: uid(base.studyInstanceUid), seriesInstanceUid: uid(base.seriesInstanceUid) };
  it('stores the routing attributes of an instance in one round trip', async () => {
    const sink = createIngestSink(db, sinkOpts());
    sinks.push(sink);
    const r = await sink.commit({ ...b, sopInstanceUid: uid('1.2.9.1'), instanceNumber: 1, sha256: (usePool ? 'f' : '1').repeat(64), storageKey: 'objects/11/11/x.dcm', receivedAt: new Date() });
    expect(r.outcome).toBe('stored');
    const row = await db.instance.findFirstOrThrow({ where: { sopInstanceUid: uid('1.2.9.1') }, include: { series: true, study: true } });
    expect(row).toMatchObject({
      sha256: (usePool ? 'f' : '1').repeat(64),
      sizeBytes: 524_288n,
      storageKey: 'objects/11/11/x.dcm',
      instanceNumber: 1,
      imagePositionPatient: [-10.5, -100, 100.25],
      imageOrientationPatient: [0, 1, 0, 0, 0, -1],
      rows: 512,
      columns: 512,
      isCurrent: true,
      callingAeTitle: 'STORESCU',
      remoteAddress: '127.0.0.1',
    });
    expect(row.series).toMatchObject({ modality: 'MR', seriesDescription: 'T2 SAG', seriesNumber: 3, bodyPartExamined: 'LSPINE', instanceCount: 1 });
    expect(row.study).toMatchObject({ state: 'receiving', instanceCount: 1 });
  });

  it('resolves concurrent commits of the same bytes to one row (stored once, duplicates otherwise)', async () => {
    const sink = createIngestSink(db, sinkOpts());
    sinks.push(sink);
    const inst = { ...b, sopInstanceUid: uid('1.2.9.2'), sha256: (usePool ? 'e' : '2').repeat(64), storageKey: 'objects/22/22/y.dcm', receivedAt: new Date() };
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => sink.commit(inst)));
    expect(outcomes.filter((o) => o.outcome === 'stored')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'duplicate')).toHaveLength(7);
    expect(await db.instance.count({ where: { sopInstanceUid: uid('1.2.9.2') } })).toBe(1);
    const study = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: b.studyInstanceUid } });
    expect(study.instanceCount).toBe(2);
  });

  it('counts many concurrent distinct instances exactly', async () => {
    const sink = createIngestSink(db, sinkOpts());
    sinks.push(sink);
    const studyInstanceUid = uid('1.2.826.0.1.3680043.10.9.2');
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        sink.commit({ ...b, studyInstanceUid, seriesInstanceUid: `${studyInstanceUid}.${i % 3}`, sopInstanceUid: uid(`1.2.9.3.${i}`), sha256: String(i).padStart(64, 'a'), storageKey: `k${i}`, receivedAt: new Date() }),
      ),
    );
    const study = await db.study.findUniqueOrThrow({ where: { studyInstanceUid }, include: { series: true } });
    expect(study.instanceCount).toBe(40);
    expect(study.series.map((s) => s.instanceCount).sort()).toEqual([13, 13, 14]);
    const audit = await listStudyAudit(db, studyInstanceUid);
    expect(audit.filter((a) => a.action === 'study.receiving')).toHaveLength(1);
  });

  it('audits the end of an association and reports overload above maxPendingCommits', async () => {
    const sink = createIngestSink(db, sinkOpts({ maxPendingCommits: 1 }));
    sinks.push(sink);
    expect(await sink.isOverloaded()).toBe(false);
    const pending = sink.commit({ ...b, sopInstanceUid: uid('1.2.9.4'), sha256: '4'.repeat(64), storageKey: 'k4', receivedAt: new Date() });
    expect(await sink.isOverloaded()).toBe(true);
    await pending;
    expect(await sink.isOverloaded()).toBe(false);
    await sink.associationClosed({
      associationId: uid('a-1'),
      callingAeTitle: 'STORESCU',
      calledAeTitle: 'LDH',
      remoteAddress: '127.0.0.1',
      startedAt: new Date(),
      endedAt: new Date(),
      instancesStored: 3,
      instancesFailed: 1,
      bytesStored: 3000,
      ending: 'released',
    });
    const ev = await db.auditEvent.findFirstOrThrow({ where: { entityType: 'association', entityId: uid('a-1') } });
    expect(ev.action).toBe('association.released');
    expect(ev.details).toMatchObject({ instancesStored: 3, instancesFailed: 1 });
  });

  it('marks a recorded instance whose file was not stored, and the resend of the same bytes heals it', async () => {
    const sink = createIngestSink(db, sinkOpts());
    sinks.push(sink);
    const studyInstanceUid = uid('1.2.826.0.1.3680043.10.9.5');
    const inst = { ...b, studyInstanceUid, seriesInstanceUid: `${studyInstanceUid}.1`, sopInstanceUid: uid('1.2.9.5'), sha256: '5'.repeat(64), storageKey: 'k5', receivedAt: new Date() };
    expect((await sink.commit(inst)).outcome).toBe('stored');
    await sink.fileNotStored(inst);
    await sink.fileNotStored(inst); // a second report is a no-op
    expect((await db.instance.findFirstOrThrow({ where: { sopInstanceUid: inst.sopInstanceUid } })).fileMissingAt).not.toBeNull();
    const failed = await db.study.findUniqueOrThrow({ where: { studyInstanceUid } });
    expect(failed.state).toBe('failed');
    expect(failed.stateReason).toMatch(/^instance file missing/);
    expect((await listStudyAudit(db, studyInstanceUid)).filter((e) => e.action === 'instance.file-missing')).toHaveLength(1);

    expect((await sink.commit({ ...inst, receivedAt: new Date() })).outcome).toBe('duplicate');
    expect((await db.instance.findFirstOrThrow({ where: { sopInstanceUid: inst.sopInstanceUid } })).fileMissingAt).toBeNull();
    expect((await db.study.findUniqueOrThrow({ where: { studyInstanceUid } })).state).toBe('receiving');
  });
});
