import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@ldh/config';
import { buildTestEnhancedMrInstance, createStoreScp, newUid, type StoreScp } from '@ldh/dicom';
import { createInstanceStore, type InstanceStore } from '@ldh/storage';
import { createDb, createIngestSink, createScratchDatabase, recordReceivedInstance, storedFrames, type Db, type PostgresIngestSink } from '@ldh/db';

const run = promisify(execFile);
const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const AX = [1, 0, 0, 0, 1, 0];
const TILTED = [1, 0, 0, 0, 0.9659258, -0.258819];

// Enhanced MR through the real path: dcmtk storescu -> our SCP (structure walk, functional
// groups) -> Postgres sink (ldh_record_instance) -> the Instance row's frame facts.
describe('Enhanced MR ingest (storescu -> SCP -> Postgres)', () => {
  let dir: string;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: Db;
  let store: InstanceStore;
  let sink: PostgresIngestSink;
  let scp: StoreScp;
  let port: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ldh-emr-ingest-'));
    scratch = await createScratchDatabase(adminUrl, 'ldh_emr');
    db = createDb(scratch.url);
    store = await createInstanceStore({ rootDir: join(dir, 'store') });
    sink = createIngestSink(db, { actor: 'emr-test', databaseUrl: scratch.url });
    scp = createStoreScp({ aeTitle: 'LDH_EMR', host: '127.0.0.1', port: 0, store, sink, logger: createLogger('emr-test', { level: 'warn' }) });
    ({ port } = await scp.listen());
  });
  afterAll(async () => {
    await scp?.close();
    await sink?.close();
    await store?.close();
    await db?.$disconnect();
    await scratch?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores per-frame geometry of small (in memory) and > 8 MiB (streamed) objects, and the reason for a broken one', async () => {
    const study = newUid();
    const blocks = [
      { orientation: AX, first: [-80, -80, 40], step: [0, 0, -4] },
      { orientation: TILTED, first: [-80, -80, -10], step: [0, 1.0353, 3.8637] },
    ];
    const small = newUid();
    const large = newUid();
    const broken = newUid();
    const objects = {
      small: buildTestEnhancedMrInstance({ studyInstanceUid: study, sopInstanceUid: small, frames: 8, stacks: blocks }),
      large: buildTestEnhancedMrInstance({ studyInstanceUid: study, sopInstanceUid: large, frames: 70, rows: 256, columns: 256 }),
      broken: buildTestEnhancedMrInstance({ studyInstanceUid: study, sopInstanceUid: broken, frames: 3, dropLastFrameItem: true }),
    };
    expect(objects.large.length).toBeGreaterThan(8 * 1024 * 1024);
    const files: string[] = [];
    for (const [name, bytes] of Object.entries(objects)) {
      const p = join(dir, `${name}.dcm`);
      await writeFile(p, bytes);
      files.push(p);
    }
    // storescu proposes Enhanced MR Image Storage (from the files) with the uncompressed syntaxes.
    const { stdout, stderr } = await run('storescu', ['-v', '-aec', 'LDH_EMR', '127.0.0.1', String(port), ...files], { env: { ...process.env, TCP_NODELAY: '1' } });
    expect(`${stdout}${stderr}`.match(/Received Store Response \(Success\)/g)).toHaveLength(3);
    // "MRe" is dcmtk's short name of Enhanced MR Image Storage: the SCP accepted that context.
    expect(`${stdout}${stderr}`.match(/Sending Store Request \(MsgID \d+, MRe\)/g)).toHaveLength(3);

    const rows = await db.instance.findMany({ where: { study: { studyInstanceUid: study } } });
    const bySop = new Map(rows.map((r) => [r.sopInstanceUid, r]));
    const s = bySop.get(small)!;
    expect(s).toMatchObject({ sopClassUid: '1.2.840.10008.5.1.4.1.1.4.1', numberOfFrames: 8, frameGeometryError: null, imagePositionPatient: [-80, -80, 40], imageOrientationPatient: AX });
    const sf = storedFrames(s)!;
    expect(sf.map((f) => f.imageOrientationPatient)).toEqual([AX, AX, AX, AX, TILTED, TILTED, TILTED, TILTED]);
    expect(sf.map((f) => f.imagePositionPatient?.[2])).toEqual([40, 36, 32, 28, -10, -6.1363, -2.2726, 1.5911]);
    expect(sf[5]).toMatchObject({ frameNumber: 6, stackId: '2', inStackPositionNumber: 2, pixelSpacing: [0.75, 0.75], sliceThickness: 4, repetitionTime: 3000, effectiveEchoTime: 90.5 });

    const l = bySop.get(large)!;
    expect(l.numberOfFrames).toBe(70);
    expect(storedFrames(l)?.[69]?.imagePositionPatient).toEqual([-20 + 69 * 4, -100, 80]);

    const b = bySop.get(broken)!;
    expect(b).toMatchObject({ numberOfFrames: 3, frames: null, frameGeometryError: 'PerFrameFunctionalGroupsSequence (5200,9230) has 2 items for 3 frames' });
    expect(storedFrames(b)).toBeUndefined();
  });

  it('records frames through the single-instance (Prisma) path too', async () => {
    const sop = newUid();
    await recordReceivedInstance(db, {
      sopInstanceUid: sop,
      sopClassUid: '1.2.840.10008.5.1.4.1.1.4.1',
      studyInstanceUid: newUid(),
      seriesInstanceUid: newUid(),
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      sha256: 'a'.repeat(64),
      sizeBytes: 1000,
      storageKey: 'objects/aa/aa/x.dcm',
      callingAeTitle: 'TEST',
      receivedAt: new Date(),
      numberOfFrames: 2,
      frames: [
        { frameNumber: 1, imagePositionPatient: [0, 0, 0], imageOrientationPatient: AX },
        { frameNumber: 2, imagePositionPatient: [0, 0, 5], imageOrientationPatient: AX },
      ],
    });
    const row = await db.instance.findFirstOrThrow({ where: { sopInstanceUid: sop } });
    expect(row.numberOfFrames).toBe(2);
    expect(storedFrames(row)?.map((f) => f.imagePositionPatient)).toEqual([[0, 0, 0], [0, 0, 5]]);
    expect(() => storedFrames({ sopInstanceUid: sop, frames: [{ frameNumber: 2 }] })).toThrow(/frames\[0\] has frameNumber 2, expected 1/);
  });
});
