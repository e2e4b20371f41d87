import { mkdtemp, rm, unlink, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInstanceStore, type InstanceStore } from '@ldh/storage';
import { createDb, createScratchDatabase, listStudyAudit, reconcileInstanceStore, recordReceivedInstance, type Db } from '@ldh/db';

const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

describe('reconcileInstanceStore (real Postgres, real store)', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: Db;
  let dir: string;
  let store: InstanceStore;

  beforeAll(async () => {
    scratch = await createScratchDatabase(adminUrl, 'ldh_reconcile');
    db = createDb(scratch.url);
    dir = await mkdtemp(join(tmpdir(), 'ldh-reconcile-'));
    store = await createInstanceStore({ rootDir: dir });
  });
  afterAll(async () => {
    await store?.close();
    await db?.$disconnect();
    await scratch?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  function baseRecord(study: string, sop: string) {
    return {
      sopInstanceUid: sop,
      sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
      studyInstanceUid: study,
      seriesInstanceUid: `${study}.1`,
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      callingAeTitle: 'STORESCU',
      receivedAt: new Date(),
    };
  }

  /** Stores `bytes` like the SCP does and records the row; returns what a resend needs. */
  async function receive(study: string, sop: string, bytes: string) {
    const obj = await store.writeObject(Buffer.from(bytes));
    await obj.placed;
    const record = { ...baseRecord(study, sop), sha256: obj.sha256, sizeBytes: obj.sizeBytes, storageKey: obj.storageKey };
    expect(await recordReceivedInstance(db, record, 'test')).toBe('stored');
    return { ...record, bytes };
  }

  async function orphan(bytes: string, ageMs: number): Promise<string> {
    const obj = await store.writeObject(Buffer.from(bytes));
    await obj.placed;
    const t = (Date.now() - ageMs) / 1000;
    await utimes(obj.path, t, t);
    return obj.storageKey;
  }

  it('marks rows whose file is missing and fails their study, removes old orphans, and a resend heals the study', async () => {
    const a1 = await receive('1.2.826.0.1.3680043.10.77.1', '1.2.826.0.1.3680043.10.77.1.1.1', 'study A, instance 1');
    await receive('1.2.826.0.1.3680043.10.77.1', '1.2.826.0.1.3680043.10.77.1.1.2', 'study A, instance 2');
    await receive('1.2.826.0.1.3680043.10.77.2', '1.2.826.0.1.3680043.10.77.2.1.1', 'study B, instance 1');
    await unlink(store.pathOf(a1.storageKey));
    const oldOrphan = await orphan('never acknowledged, long ago', 60 * 60_000);
    const youngOrphan = await orphan('never acknowledged, just now (or a writer mid-way)', 0);

    const r = await reconcileInstanceStore(db, store, { actor: 'test', orphanGraceMs: 10 * 60_000 });
    expect(r.rowsChecked).toBe(3);
    expect(r.missingFiles).toEqual([{ sopInstanceUid: a1.sopInstanceUid, studyInstanceUid: a1.studyInstanceUid, storageKey: a1.storageKey }]);
    expect(r.failedStudies).toEqual([a1.studyInstanceUid]);
    expect(r.objectsChecked).toBe(4);
    expect(r.orphansRemoved).toEqual([oldOrphan]);
    expect(r.orphansKept).toBe(1);
    expect(await store.exists(oldOrphan)).toBe(false);
    expect(await store.exists(youngOrphan)).toBe(true);

    const studyA = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: a1.studyInstanceUid } });
    expect(studyA.state).toBe('failed');
    expect(studyA.stateReason).toMatch(/^instance file missing/);
    expect((await db.study.findUniqueOrThrow({ where: { studyInstanceUid: '1.2.826.0.1.3680043.10.77.2' } })).state).toBe('receiving');
    const row = await db.instance.findFirstOrThrow({ where: { sopInstanceUid: a1.sopInstanceUid } });
    expect(row.fileMissingAt).not.toBeNull();
    expect((await listStudyAudit(db, a1.studyInstanceUid)).map((e) => e.action)).toEqual(expect.arrayContaining(['instance.file-missing', 'study.failed']));

    // A second run finds nothing new: marked rows are not reported again.
    const again = await reconcileInstanceStore(db, store, { actor: 'test' });
    expect(again.missingFiles).toEqual([]);
    expect(again.orphansRemoved).toEqual([]);

    // The PACS resends the same bytes: the SCP stores the file, the row is whole again and the study reopens.
    const resent = await store.writeObject(Buffer.from(a1.bytes));
    await resent.placed;
    expect(await recordReceivedInstance(db, { ...a1, receivedAt: new Date() }, 'test')).toBe('duplicate');
    expect((await db.instance.findFirstOrThrow({ where: { sopInstanceUid: a1.sopInstanceUid } })).fileMissingAt).toBeNull();
    const reopened = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: a1.studyInstanceUid } });
    expect(reopened.state).toBe('receiving');
    expect(reopened.revision).toBe(studyA.revision + 1);
    expect((await listStudyAudit(db, a1.studyInstanceUid)).map((e) => e.action).slice(-2)).toEqual(['instance.file-restored', 'study.reopened']);
    expect((await reconcileInstanceStore(db, store, { actor: 'test' })).missingFiles).toEqual([]);
  });

  it('clears the mark when the file is back (staging recovery, an operator) and reopens the study once none is missing', async () => {
    const study = '1.2.826.0.1.3680043.10.77.3';
    const c1 = await receive(study, `${study}.1.1`, 'study C, instance 1');
    const c2 = await receive(study, `${study}.1.2`, 'study C, instance 2');
    await unlink(store.pathOf(c1.storageKey));
    await unlink(store.pathOf(c2.storageKey));
    const first = await reconcileInstanceStore(db, store, { actor: 'test' });
    expect(first.failedStudies).toEqual([study]);
    const failed = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: study } });
    expect(failed.state).toBe('failed');

    // One file comes back: its mark is cleared, but the study still lacks the other one.
    await (await store.writeObject(Buffer.from(c1.bytes))).placed;
    const partly = await reconcileInstanceStore(db, store, { actor: 'test' });
    expect(partly.restoredFiles).toEqual([{ sopInstanceUid: c1.sopInstanceUid, studyInstanceUid: study, storageKey: c1.storageKey }]);
    expect(partly.reopenedStudies).toEqual([]);
    expect(partly.missingFiles).toEqual([]);
    expect((await db.study.findUniqueOrThrow({ where: { studyInstanceUid: study } })).state).toBe('failed');

    // The other one too: the study reopens, its quiet period starting over.
    await (await store.writeObject(Buffer.from(c2.bytes))).placed;
    const whole = await reconcileInstanceStore(db, store, { actor: 'test' });
    expect(whole.restoredFiles.map((r) => r.sopInstanceUid)).toEqual([c2.sopInstanceUid]);
    expect(whole.reopenedStudies).toEqual([study]);
    const reopened = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: study } });
    expect(reopened).toMatchObject({ state: 'receiving', revision: failed.revision + 1, stateReason: null, settledAt: null });
    expect(reopened.lastInstanceAt.getTime()).toBeGreaterThan(failed.lastInstanceAt.getTime());
    expect(await db.instance.count({ where: { study: { studyInstanceUid: study }, fileMissingAt: { not: null } } })).toBe(0);
    const actions = (await listStudyAudit(db, study)).map((e) => e.action);
    expect(actions.filter((a) => a === 'instance.file-restored')).toHaveLength(2);
    expect(actions.slice(-2)).toEqual(['instance.file-restored', 'study.reopened']);

    const after = await reconcileInstanceStore(db, store, { actor: 'test' });
    expect(after.restoredFiles).toEqual([]);
    expect(after.reopenedStudies).toEqual([]);
  });

  it('clears a restored mark but leaves a study that failed for another reason, or was already classified, as it is', async () => {
    const failedElsewhere = '1.2.826.0.1.3680043.10.77.5';
    const classified = '1.2.826.0.1.3680043.10.77.6';
    const e1 = await receive(failedElsewhere, `${failedElsewhere}.1.1`, 'study E, instance 1');
    const f1 = await receive(classified, `${classified}.1.1`, 'study F, instance 1');
    await db.study.update({ where: { studyInstanceUid: classified }, data: { state: 'done' } });
    await unlink(store.pathOf(e1.storageKey));
    await unlink(store.pathOf(f1.storageKey));
    const first = await reconcileInstanceStore(db, store, { actor: 'test' });
    expect(first.failedStudies).toEqual([failedElsewhere]); // a done study is never failed for a hole
    await db.study.update({ where: { studyInstanceUid: failedElsewhere }, data: { stateReason: 'routing failed: no T2 axial series' } });
    await (await store.writeObject(Buffer.from(e1.bytes))).placed;
    await (await store.writeObject(Buffer.from(f1.bytes))).placed;
    const back = await reconcileInstanceStore(db, store, { actor: 'test' });
    expect(back.restoredFiles.map((r) => r.sopInstanceUid).sort()).toEqual([e1.sopInstanceUid, f1.sopInstanceUid].sort());
    expect(back.reopenedStudies).toEqual([]);
    expect(await db.study.findUniqueOrThrow({ where: { studyInstanceUid: failedElsewhere } })).toMatchObject({ state: 'failed', stateReason: 'routing failed: no T2 axial series' });
    expect((await db.study.findUniqueOrThrow({ where: { studyInstanceUid: classified } })).state).toBe('done');
    const restored = (await listStudyAudit(db, classified)).filter((a) => a.action === 'instance.file-restored');
    expect(restored.map((a) => a.details)).toEqual([{ sha256: f1.sha256, storageKey: f1.storageKey, by: 'reconciliation' }]);
  });

  it('checks every row when the last row of a page changes state under it (keyset paging, page size 1)', async () => {
    const own = await createScratchDatabase(adminUrl, 'ldh_reconcile_paging');
    const ownDb = createDb(own.url);
    try {
      const study = '1.2.826.0.1.3680043.10.77.4';
      const keys: string[] = [];
      for (let i = 1; i <= 4; i++) {
        const obj = await store.writeObject(Buffer.from(`study D, instance ${i}`));
        await obj.placed;
        const record = { ...baseRecord(study, `${study}.1.${i}`), sha256: obj.sha256, sizeBytes: obj.sizeBytes, storageKey: obj.storageKey };
        expect(await recordReceivedInstance(ownDb, record, 'test')).toBe('stored');
        keys.push(obj.storageKey);
      }
      for (const k of keys) await unlink(store.pathOf(k));
      const missing = await reconcileInstanceStore(ownDb, store, { actor: 'test', pageSize: 1 });
      expect(missing.rowsChecked).toBe(4);
      expect(missing.missingFiles.map((m) => m.storageKey).sort()).toEqual([...keys].sort());
      for (let i = 1; i <= 4; i++) await (await store.writeObject(Buffer.from(`study D, instance ${i}`))).placed;
      const restored = await reconcileInstanceStore(ownDb, store, { actor: 'test', pageSize: 1 });
      expect(restored.restoredFiles.map((m) => m.storageKey).sort()).toEqual([...keys].sort());
      expect(restored.reopenedStudies).toEqual([study]);
    } finally {
      await ownDb.$disconnect();
      await own.drop();
    }
  });
});
