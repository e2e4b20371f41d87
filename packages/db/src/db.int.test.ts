import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDb,
  createScratchDatabase,
  findStudiesToSettle,
  listStudyAudit,
  markStudySettled,
  recordReceivedInstance,
  transitionStudy,
  StateConflictError,
  type Db,
} from '@ldh/db';

const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;

beforeAll(async () => {
  scratch = await createScratchDatabase(adminUrl);
  db = createDb(scratch.url);
});
afterAll(async () => {
  await db?.$disconnect();
  await scratch?.drop();
});

const base = {
  sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
  studyInstanceUid: '1.2.826.0.1.3680043.10.1.1',
  seriesInstanceUid: '1.2.826.0.1.3680043.10.1.1.1',
  transferSyntaxUid: '1.2.840.10008.1.2.1',
  sizeBytes: 1000,
  callingAeTitle: 'STORESCU',
  modality: 'MR',
};

describe('@ldh/db against a real Postgres', () => {
  it('records instances, dedupes identical bytes, keeps both versions of changed bytes', async () => {
    const t0 = new Date(Date.now() - 60_000);
    expect(await recordReceivedInstance(db, { ...base, sopInstanceUid: '1.2.3.1', sha256: 'a'.repeat(64), storageKey: 'k1', receivedAt: t0 })).toBe('stored');
    expect(await recordReceivedInstance(db, { ...base, sopInstanceUid: '1.2.3.1', sha256: 'a'.repeat(64), storageKey: 'k1', receivedAt: t0 })).toBe('duplicate');
    expect(await recordReceivedInstance(db, { ...base, sopInstanceUid: '1.2.3.1', sha256: 'b'.repeat(64), storageKey: 'k2', receivedAt: t0 })).toBe('new-version');
    const rows = await db.instance.findMany({ where: { sopInstanceUid: '1.2.3.1' }, orderBy: { receivedAt: 'asc' } });
    expect(rows.map((r) => [r.sha256[0], r.isCurrent])).toEqual([
      ['a', false],
      ['b', true],
    ]);
    const study = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: base.studyInstanceUid } });
    expect(study.instanceCount).toBe(1);
  });

  it('settles after the quiet period, transitions with audit, and refuses stale transitions', async () => {
    const due = await findStudiesToSettle(db, 15_000);
    expect(due.map((d) => d.studyInstanceUid)).toContain(base.studyInstanceUid);
    const s = due.find((d) => d.studyInstanceUid === base.studyInstanceUid)!;
    expect(await markStudySettled(db, s, 15_000, 'test')).toBe(true);
    expect(await markStudySettled(db, s, 15_000, 'test')).toBe(false);
    await transitionStudy(db, { studyId: s.studyId, from: ['settled'], to: 'routed', actor: 'test' });
    await expect(transitionStudy(db, { studyId: s.studyId, from: ['settled'], to: 'routed', actor: 'test' })).rejects.toBeInstanceOf(StateConflictError);
    const audit = await listStudyAudit(db, base.studyInstanceUid);
    expect(audit.map((a) => a.action)).toEqual(['study.receiving', 'instance.version-conflict', 'study.settled', 'study.routed']);
  });

  it('reopens a processed study when a late instance arrives', async () => {
    await recordReceivedInstance(db, { ...base, sopInstanceUid: '1.2.3.2', sha256: 'c'.repeat(64), storageKey: 'k3', receivedAt: new Date() });
    const study = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: base.studyInstanceUid } });
    expect(study.state).toBe('receiving');
    expect(study.revision).toBe(1);
    const audit = await listStudyAudit(db, base.studyInstanceUid);
    expect(audit.at(-1)?.action).toBe('study.reopened');
  });

  it('reopens a study whose delivery failed when a late instance arrives', async () => {
    await db.study.update({ where: { studyInstanceUid: base.studyInstanceUid }, data: { state: 'delivery_failed', stateReason: 'pacs: rejected' } });
    await recordReceivedInstance(db, { ...base, sopInstanceUid: '1.2.3.3', sha256: 'd'.repeat(64), storageKey: 'k4', receivedAt: new Date() });
    const study = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: base.studyInstanceUid } });
    expect([study.state, study.revision, study.stateReason]).toEqual(['receiving', 2, null]);
    const audit = await listStudyAudit(db, base.studyInstanceUid);
    expect(audit.at(-1)?.details).toMatchObject({ from: 'delivery_failed', to: 'receiving', revision: 2 });
  });

  it('keeps the audit trail append-only', async () => {
    await expect(db.auditEvent.updateMany({ data: { action: 'tampered' } })).rejects.toThrow(/append-only/);
    await expect(db.auditEvent.deleteMany({})).rejects.toThrow(/append-only/);
  });
});
