import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createInstanceStore, storageKeyForSha256 } from './instance-store.js';
import { InsufficientSpaceError, InvalidStorageKeyError, WriteStateError } from './errors.js';

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

function write(stream: NodeJS.WritableStream, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => stream.write(chunk, (err) => (err ? reject(err) : resolve())));
}

describe('createInstanceStore', () => {
  let root: string;
  // Every store a test opens is closed afterwards (its staging pool holds open file handles).
  let opened: Array<{ close(): Promise<void> }> = [];
  const open = async (opts: Parameters<typeof createInstanceStore>[0]): Promise<Awaited<ReturnType<typeof createInstanceStore>>> => {
    const store = await createInstanceStore(opts);
    opened.push(store);
    return store;
  };
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'ldh-store-'));
  });
  afterEach(async () => {
    await Promise.all(opened.map((s) => s.close()));
    opened = [];
    await rm(root, { recursive: true, force: true });
  });

  it('commits to the content address with the streamed sha256 and leaves no temp file', async () => {
    const store = await open({ rootDir: root });
    const parts = [Buffer.from('DICM'), Buffer.alloc(300_000, 7), Buffer.from('tail')];
    const w = await store.beginWrite();
    for (const p of parts) await write(w.stream, p);
    const obj = await w.commit();
    const whole = Buffer.concat(parts);
    const sha = createHash('sha256').update(whole).digest('hex');
    expect(obj.sha256).toBe(sha);
    expect(obj.sizeBytes).toBe(whole.length);
    expect(obj.storageKey).toBe(`objects/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}.dcm`);
    expect(obj.storageKey).toBe(storageKeyForSha256(sha));
    expect(obj.path).toBe(store.pathOf(obj.storageKey));
    expect((await readFile(obj.path)).equals(whole)).toBe(true);
    expect(await store.exists(obj.storageKey)).toBe(true);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('abort removes the temp file and nothing appears under objects/', async () => {
    const store = await open({ rootDir: root });
    const w = await store.beginWrite();
    await write(w.stream, Buffer.alloc(1000, 1));
    expect(await readdir(join(root, 'tmp'))).toHaveLength(1);
    await w.abort();
    await w.abort(); // idempotent
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    expect(await listFiles(join(root, 'objects'))).toEqual([]);
    await expect(w.commit()).rejects.toBeInstanceOf(WriteStateError);
  });

  it('seal() makes the temp file durable without publishing it; abort() after seal removes it', async () => {
    const store = await open({ rootDir: root });
    const w = await store.beginWrite();
    await write(w.stream, Buffer.from('validate me first'));
    const sealed = await w.seal();
    expect(sealed.sizeBytes).toBe(17);
    expect((await readFile(w.tempPath)).toString()).toBe('validate me first');
    expect(await listFiles(join(root, 'objects'))).toEqual([]);
    await expect(w.seal()).rejects.toBeInstanceOf(WriteStateError);
    await w.abort();
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    expect(await listFiles(join(root, 'objects'))).toEqual([]);
  });

  it('writeObject stores an in-memory object at its content address (hashing it, or trusting a given digest)', async () => {
    const store = await open({ rootDir: root });
    const data = Buffer.alloc(200_000, 9);
    const sha = createHash('sha256').update(data).digest('hex');
    const a = await store.writeObject(data);
    expect(a.sha256).toBe(sha);
    expect(a.storageKey).toBe(store.storageKeyOf(sha)); // known before the write (the SCP records it in parallel)
    await a.placed;
    expect((await readFile(a.path)).equals(data)).toBe(true);
    const b = await store.writeObject([data.subarray(0, 10), data.subarray(10)], { sha256: sha });
    expect(b.storageKey).toBe(a.storageKey);
    expect(b.sizeBytes).toBe(data.length);
    await Promise.all([b.placed, a.settled, b.settled]);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    const full = await open({ rootDir: root, minFreeBytes: Number.MAX_SAFE_INTEGER });
    await expect(full.writeObject(data)).rejects.toBeInstanceOf(InsufficientSpaceError);
    await store.close();
    // Only the unused, empty staging files of the pool are left.
    for (const f of await listFiles(join(root, 'staging'))) expect((await readFile(f)).length).toBe(0);
  });

  it('recoverStaging restores referenced staging files, deletes the rest, and leaves a live writer\'s alone', async () => {
    const dead = 2 ** 22 + 1;
    const staging = join(root, 'staging');
    await mkdir(staging, { recursive: true });
    const acked = Buffer.from('acknowledged before the crash');
    const unacked = Buffer.from('complete but never recorded');
    await writeFile(join(staging, `${dead}-01.stage`), acked);
    await writeFile(join(staging, `${dead}-02.stage`), unacked);
    await writeFile(join(staging, `${dead}-03.stage`), '');
    await writeFile(join(staging, `${process.ppid}-04.stage`), 'being written by a live process');
    const store = await open({ rootDir: root });
    const shaOf = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    const asked: string[][] = [];
    const result = await store.recoverStaging(async (shas) => {
      asked.push(shas);
      return new Set(shas.filter((s) => s === shaOf(acked)));
    });
    expect(asked).toHaveLength(1);
    expect(asked[0]).toHaveLength(2);
    expect(result).toEqual({ restored: [storageKeyForSha256(shaOf(acked))], removed: 2 });
    expect((await readFile(store.pathOf(storageKeyForSha256(shaOf(acked))))).equals(acked)).toBe(true);
    expect(await readdir(staging)).toEqual([`${process.ppid}-04.stage`]);
    expect(await store.exists(storageKeyForSha256(shaOf(unacked)))).toBe(false);
    await (await store.writeObject(Buffer.from('after recovery'))).placed;
    await expect(store.recoverStaging(async () => new Set())).rejects.toBeInstanceOf(WriteStateError);
    await store.close();
  });

  it('storing identical bytes twice yields one object', async () => {
    const store = await open({ rootDir: root });
    const keys: string[] = [];
    for (let i = 0; i < 2; i++) {
      const w = await store.beginWrite();
      await write(w.stream, Buffer.from('same bytes'));
      keys.push((await w.commit()).storageKey);
    }
    expect(keys[0]).toBe(keys[1]);
    expect(await listFiles(join(root, 'objects'))).toHaveLength(1);
  });

  it('startup sweep removes temp files of dead writers and of this pid, keeps live ones', async () => {
    await mkdir(join(root, 'tmp'), { recursive: true });
    // pid 2^22+1 is above Linux's pid_max default range for most systems: treated as dead.
    await writeFile(join(root, 'tmp', `${2 ** 22 + 1}-abcd.tmp`), 'partial');
    await writeFile(join(root, 'tmp', `${process.pid}-beef.tmp`), 'partial');
    await writeFile(join(root, 'tmp', 'garbage-name'), 'x');
    await writeFile(join(root, 'tmp', `${process.ppid}-cafe.tmp`), 'in flight elsewhere');
    const store = await open({ rootDir: root });
    expect(store.sweptTempFiles).toBe(3);
    expect(await readdir(join(root, 'tmp'))).toEqual([`${process.ppid}-cafe.tmp`]);
    // Once old enough, even a live writer's temp file is stale.
    const strict = await open({ rootDir: root, staleTempMs: -1 });
    expect(strict.sweptTempFiles).toBe(1);
  });

  it('free-space guard refuses writes below minFreeBytes', async () => {
    const store = await open({ rootDir: root, minFreeBytes: Number.MAX_SAFE_INTEGER });
    expect(await store.hasSpace()).toBe(false);
    expect(await store.freeBytes()).toBeGreaterThan(0);
    await expect(store.beginWrite()).rejects.toBeInstanceOf(InsufficientSpaceError);
    const roomy = await open({ rootDir: root, minFreeBytes: 1 });
    expect(await roomy.hasSpace()).toBe(true);
  });

  it('pathOf rejects keys that are not content addresses', async () => {
    const store = await open({ rootDir: root });
    expect(() => store.pathOf('../etc/passwd')).toThrow(InvalidStorageKeyError);
    expect(() => store.pathOf(`objects/aa/bb/${'a'.repeat(64)}.dcm/../../x`)).toThrow(InvalidStorageKeyError);
  });

  it('concurrent writes each land intact', async () => {
    const store = await open({ rootDir: root });
    const payloads = Array.from({ length: 20 }, (_, i) => Buffer.alloc(50_000 + i, i));
    const results = await Promise.all(
      payloads.map(async (p) => {
        const w = await store.beginWrite();
        await write(w.stream, p.subarray(0, 1000));
        await write(w.stream, p.subarray(1000));
        return w.commit();
      }),
    );
    for (const [i, r] of results.entries()) {
      expect((await readFile(r.path)).equals(payloads[i]!)).toBe(true);
    }
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });
});
