import { createHash, randomBytes, type Hash } from 'node:crypto';
import { closeSync, constants as fsConstants, fsync, openSync, writev } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, stat, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { InsufficientSpaceError, InvalidStorageKeyError, StorageError, WriteStateError } from './errors.js';
import { DirSyncBatcher, STAGING_NAME, StagingPool, closeQuietly, type StagingFile } from './staging-pool.js';

/** Options of {@link createInstanceStore}. */
export interface InstanceStoreOptions {
  /** Root folder; `tmp/` and `objects/` are created below it (same filesystem, so rename is atomic). */
  rootDir: string;
  /** Below this many free bytes (for unprivileged users) `hasSpace()` is false and `beginWrite()` refuses. */
  minFreeBytes?: number;
  /** Temp files older than this are swept even when their owner pid looks alive (default 1 h). */
  staleTempMs?: number;
  /** How long a free-space reading is reused; statfs on every instance is wasted work (default 500 ms). */
  freeSpaceCacheMs?: number;
}

/**
 * An object written with {@link InstanceStore.writeObject}: its bytes are durable when the call
 * resolves; it reaches its content address when `placed` resolves, and that rename is itself
 * durable when `settled` does (batched directory fsync; recovery covers a crash before it).
 */
export interface StagedObject extends StoredObject {
  placed: Promise<void>;
  settled: Promise<void>;
}

/** Outcome of {@link InstanceStore.recoverStaging}. */
export interface StagingRecovery {
  /** Staging files whose content a row references, moved to their content address. */
  restored: string[];
  /** Staging files removed: empty, partial, or complete but never recorded (never acknowledged). */
  removed: number;
}

/** An object durably committed under `objects/`. */
export interface StoredObject {
  /** Lower-case hex sha256 of the whole file as written. */
  sha256: string;
  sizeBytes: number;
  /** Path relative to the store root: `objects/<sha[0..2]>/<sha[2..4]>/<sha256>.dcm`. */
  storageKey: string;
  /** Absolute path of the committed file. */
  path: string;
}

/**
 * One object being written. Write bytes to `stream` (it hashes while writing), then `commit()`
 * to make them durable and visible, or `abort()` to throw them away. Nothing partial is ever
 * visible under `objects/`: only a fully written, fsynced temp file is renamed there.
 */
export interface PendingWrite {
  readonly tempPath: string;
  /** Sink for the bytes; back-pressure is honoured (write() returns false above 1 MiB buffered). */
  readonly stream: Writable;
  /** Bytes handed to the file so far. */
  readonly bytesWritten: number;
  /**
   * Ends the stream if needed and fsyncs the temp file, without publishing it: lets a caller
   * validate the bytes at `tempPath` before they become visible under `objects/`.
   */
  seal(): Promise<{ sha256: string; sizeBytes: number }>;
  /** Seals if needed, renames the file to its content address, fsyncs the directory. */
  commit(): Promise<StoredObject>;
  /** Discards the temp file; safe to call at any time and more than once (no-op after commit). */
  abort(): Promise<void>;
}

/** Content-addressed, crash-safe store for received DICOM instances. */
export interface InstanceStore {
  readonly rootDir: string;
  /** How many stale temp files the startup sweep removed. */
  readonly sweptTempFiles: number;
  /** Starts writing a new object into `tmp/`; refuses with {@link InsufficientSpaceError} when the disk is low. */
  beginWrite(): Promise<PendingWrite>;
  /**
   * Writes a complete object held in memory (one buffer, or parts written with one writev, e.g.
   * meta header + dataset without concatenating them) into a pre-created staging file whose
   * name is already durable (see `staging-pool.ts`): when this resolves the bytes survive a
   * power cut. The rename to the content address follows at once (`placed`); its directory
   * fsync is batched in the background (`settled`), and {@link recoverStaging} finishes the job
   * after a crash. `sha256`, when given, must be the digest of `data` (saves hashing twice).
   */
  writeObject(data: Buffer | readonly Buffer[], opts?: { sha256?: string }): Promise<StagedObject>;
  /**
   * Creates one staging file in the background for a {@link writeObject} to come (call it when an
   * instance starts arriving): spreads file creation over the receive phase instead of refill
   * bursts on the write path. Like writeObject, only after {@link recoverStaging}.
   */
  prepareWrite(): void;
  /**
   * Startup recovery of staging files left by a dead process: each one whose sha256 `referenced`
   * reports (an Instance row points at it: it may have been acknowledged) goes to its content
   * address; every other one is deleted (never acknowledged). Run once, before receiving.
   */
  recoverStaging(referenced: (sha256s: string[]) => Promise<Set<string>>): Promise<StagingRecovery>;
  /** Waits for pending directory syncs and closes cached handles and unused staging files. */
  close(): Promise<void>;
  /** False when free space is below `minFreeBytes`: callers answer "out of resources" instead of writing. */
  hasSpace(): Promise<boolean>;
  /** Free bytes available to this process on the store's filesystem (fresh reading). */
  freeBytes(): Promise<number>;
  /** Absolute path of a committed object; throws {@link InvalidStorageKeyError} on a malformed key. */
  pathOf(storageKey: string): string;
  /**
   * The storage key an object with this sha256 gets: lets a caller record the object (in
   * parallel with {@link writeObject}) before the write has returned.
   */
  storageKeyOf(sha256: string): string;
  /** True when the object is present under `objects/`. */
  exists(storageKey: string): Promise<boolean>;
  /** Deletes temp files left by dead writers; run at startup, safe to run again. Returns how many were removed. */
  sweepTemp(): Promise<number>;
  /** Every committed object (for startup reconciliation); the sha256 is read from the file name, not recomputed. */
  listObjects(): AsyncIterable<{ storageKey: string; sha256: string; mtimeMs: number }>;
  /** Deletes a committed object (reconciliation of objects nothing references); missing is not an error. */
  removeObject(storageKey: string): Promise<void>;
}

const STORAGE_KEY = /^objects\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})\.dcm$/;
const TEMP_NAME = /^(\d+)-[0-9a-f]+\.tmp$/;
const STREAM_HIGH_WATER_MARK = 1 << 20;

/** The storage key of a sha256: two directory levels keep folders small even at millions of objects. */
export function storageKeyForSha256(sha256: string): string {
  return `objects/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}.dcm`;
}

/**
 * Opens (creating if needed) a store under `rootDir` and sweeps temp files left by crashed
 * writers, so a restart after kill -9 starts from a clean `tmp/`.
 */
export async function createInstanceStore(options: InstanceStoreOptions): Promise<InstanceStore> {
  const rootDir = options.rootDir;
  const tmpDir = join(rootDir, 'tmp');
  const objectsDir = join(rootDir, 'objects');
  const minFreeBytes = options.minFreeBytes ?? 0;
  const staleTempMs = options.staleTempMs ?? 60 * 60 * 1000;
  const freeSpaceCacheMs = options.freeSpaceCacheMs ?? 500;

  const stagingDir = join(rootDir, 'staging');
  await mkdir(tmpDir, { recursive: true });
  await mkdir(stagingDir, { recursive: true });
  await mkdir(objectsDir, { recursive: true });
  await fsyncDir(rootDir);

  const knownDirs = new Set<string>([objectsDir]);
  let freeCache: { at: number; bytes: number } | undefined;

  async function freeBytes(): Promise<number> {
    const s = await statfs(rootDir);
    const bytes = Number(s.bavail) * Number(s.bsize);
    freeCache = { at: Date.now(), bytes };
    return bytes;
  }

  async function cachedFreeBytes(): Promise<number> {
    if (freeCache && Date.now() - freeCache.at < freeSpaceCacheMs) return freeCache.bytes;
    return freeBytes();
  }

  async function hasSpace(): Promise<boolean> {
    if (minFreeBytes <= 0) return true;
    return (await cachedFreeBytes()) >= minFreeBytes;
  }

  /**
   * mkdir -p for the two fan-out levels. Returns the directories that gained an entry and so
   * must be fsynced before the object counts as durable (the caller fsyncs them together).
   */
  async function ensureObjectDir(dir: string): Promise<string[]> {
    if (knownDirs.has(dir)) return [];
    const parent = dirname(dir);
    const toSync = knownDirs.has(parent) || parent === objectsDir ? [] : await ensureObjectDir(parent);
    try {
      await mkdir(dir);
      toSync.push(parent);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    knownDirs.add(dir);
    return toSync;
  }

  async function sweepTemp(): Promise<number> {
    let removed = 0;
    for (const name of await readdir(tmpDir)) {
      const full = join(tmpDir, name);
      if (await ownedByLiveWriter(name, TEMP_NAME, full)) continue;
      try {
        await unlink(full);
        removed += 1;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    if (removed > 0) await fsyncDir(tmpDir);
    return removed;
  }

  async function beginWrite(): Promise<PendingWrite> {
    if (!(await hasSpace())) {
      throw new InsufficientSpaceError(freeCache?.bytes ?? 0, minFreeBytes);
    }
    const tempPath = join(tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}.tmp`);
    const fh = await open(tempPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o640);
    const stream = new HashingFileWritable(fh, createHash('sha256'));
    let state: 'open' | 'sealing' | 'sealed' | 'committing' | 'committed' | 'aborted' = 'open';
    let sealed: { sha256: string; sizeBytes: number } | undefined;

    async function fail(err: unknown): Promise<Error> {
      state = 'aborted';
      await discard().catch(() => undefined);
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
        return new InsufficientSpaceError(freeCache?.bytes ?? 0, minFreeBytes, { cause: err });
      }
      return err instanceof StorageError ? err : new StorageError(`write failed: ${(err as Error).message}`, { cause: err });
    }

    async function seal(): Promise<{ sha256: string; sizeBytes: number }> {
      if (state !== 'open') throw new WriteStateError(`seal() on a write that is ${state}`);
      state = 'sealing';
      try {
        if (!stream.writableEnded) stream.end();
        await finished(stream); // _final has fdatasync'ed the file
        await stream.closeFile();
        sealed = { sha256: stream.digest(), sizeBytes: stream.bytesWritten };
        state = 'sealed';
        return sealed;
      } catch (err) {
        throw await fail(err);
      }
    }

    async function discard(): Promise<void> {
      if (!stream.destroyed) stream.destroy();
      await stream.closeFile();
      try {
        await unlink(tempPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }

    return {
      tempPath,
      stream,
      get bytesWritten() {
        return stream.bytesWritten;
      },
      seal,
      async commit(): Promise<StoredObject> {
        if (state === 'open') await seal();
        if (state !== 'sealed' || !sealed) throw new WriteStateError(`commit() on a write that is ${state}`);
        state = 'committing';
        const { sha256, sizeBytes } = sealed;
        try {
          const storageKey = storageKeyForSha256(sha256);
          const path = join(rootDir, storageKey);
          await publish(tempPath, path);
          state = 'committed';
          return { sha256, sizeBytes, storageKey, path };
        } catch (err) {
          throw await fail(err);
        }
      },
      async abort(): Promise<void> {
        if (state === 'committed' || state === 'aborted') return;
        state = 'aborted';
        await discard();
      },
    };
  }

  function pathOf(storageKey: string): string {
    if (!STORAGE_KEY.test(storageKey)) throw new InvalidStorageKeyError(`not a storage key: ${storageKey}`);
    return join(rootDir, ...storageKey.split('/'));
  }

  async function exists(storageKey: string): Promise<boolean> {
    try {
      await stat(pathOf(storageKey));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /**
   * Renames a durable file to its content address; returns the directories to fsync for the new
   * name to be durable (its own and the parents of any new fan-out directories). `dirReady` is
   * the {@link ensureObjectDir} of the target's directory when the caller already started it.
   */
  async function renameIntoPlace(fromPath: string, path: string, dirReady?: Promise<string[]>): Promise<string[]> {
    const dir = dirname(path);
    const created = await (dirReady ?? ensureObjectDir(dir));
    await rename(fromPath, path);
    return [dir, ...created];
  }

  /** Renames a durable temp file to its content address and makes the new name durable. */
  async function publish(tempPath: string, path: string): Promise<void> {
    // Fsynced together (one journal commit on most filesystems) instead of one after the other.
    await Promise.all((await renameIntoPlace(tempPath, path)).map((d) => fsyncDir(d)));
  }

  const dirSync = new DirSyncBatcher(fsyncDir);
  let staging: StagingPool | undefined;

  function prepareWrite(): void {
    staging ??= new StagingPool({ dir: stagingDir, fsyncDir });
    staging.prepare();
  }

  async function writeObject(data: Buffer | readonly Buffer[], opts: { sha256?: string } = {}): Promise<StagedObject> {
    if (!(await hasSpace())) throw new InsufficientSpaceError(freeCache?.bytes ?? 0, minFreeBytes);
    const parts = Buffer.isBuffer(data) ? [data] : [...data];
    const sizeBytes = parts.reduce((n, b) => n + b.length, 0);
    const sha256 = opts.sha256 ?? sha256Of(parts);
    const storageKey = storageKeyForSha256(sha256);
    const path = join(rootDir, storageKey);
    staging ??= new StagingPool({ dir: stagingDir, fsyncDir });
    // The fan-out directory depends only on the digest: create it while the bytes are written
    // (an empty directory is harmless if the write fails), so the rename can follow at once.
    const dirReady = ensureObjectDir(dirname(path));
    dirReady.catch(() => undefined);
    let file: StagingFile | undefined;
    try {
      file = await staging.take();
      const fd = file.fd;
      await writeAll((b) => writevFd(fd, b), parts); // O_DSYNC: data (and size) durable under a durable name on return
    } catch (err) {
      if (file) void discardStaged(file.path, file.fd);
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new InsufficientSpaceError(freeCache?.bytes ?? 0, minFreeBytes, { cause: err });
      }
      throw err instanceof StorageError ? err : new StorageError(`write failed: ${(err as Error).message}`, { cause: err });
    }
    const staged = file;
    closeQuietly([staged.fd]); // durability does not depend on the close
    const renamed = renameIntoPlace(staged.path, path, dirReady);
    // A failed rename leaves the staging file for the next startup's recovery: the sink may
    // have recorded the object meanwhile, and then these bytes are the only copy.
    const placed = renamed.then(
      () => undefined,
      (err: unknown) => {
        throw new StorageError(`rename into the store failed: ${(err as Error).message}`, { cause: err });
      },
    );
    const settled = renamed.then((dirs) => dirSync.sync(dirs));
    placed.catch(() => undefined);
    settled.catch(() => undefined);
    return { sha256, sizeBytes, storageKey, path, placed, settled };
  }

  async function discardStaged(path: string, fd: number): Promise<void> {
    closeQuietly([fd]);
    await unlink(path).catch(() => undefined);
  }

  async function recoverStaging(referenced: (sha256s: string[]) => Promise<Set<string>>): Promise<StagingRecovery> {
    // Our own pool files carry our pid too (pid 1 in every container start): once writing has
    // begun they are indistinguishable from a predecessor's, so recovery must come first.
    if (staging) throw new WriteStateError('recoverStaging() after writeObject(): run it once at startup, before receiving');
    const candidates: Array<{ path: string; sha256: string }> = [];
    let removed = 0;
    for (const name of await readdir(stagingDir)) {
      const full = join(stagingDir, name);
      if (await ownedByLiveWriter(name, STAGING_NAME, full)) continue;
      const bytes = await readFile(full).catch(() => undefined);
      if (bytes && bytes.length > 0) {
        candidates.push({ path: full, sha256: sha256Of([bytes]) });
      } else {
        await unlink(full).catch(() => undefined);
        removed += 1;
      }
    }
    const known = candidates.length > 0 ? await referenced(candidates.map((c) => c.sha256)) : new Set<string>();
    const restored: string[] = [];
    const dirs = new Set<string>();
    for (const c of candidates) {
      if (known.has(c.sha256)) {
        const storageKey = storageKeyForSha256(c.sha256);
        for (const d of await renameIntoPlace(c.path, join(rootDir, storageKey))) dirs.add(d);
        restored.push(storageKey);
      } else {
        await unlink(c.path);
        removed += 1;
      }
    }
    if (removed > 0) dirs.add(stagingDir);
    await Promise.all([...dirs].map((d) => fsyncDir(d)));
    return { restored, removed };
  }

  /** True when `name` belongs to another process that is alive and wrote it recently. */
  async function ownedByLiveWriter(name: string, pattern: RegExp, full: string): Promise<boolean> {
    const m = pattern.exec(name);
    if (!m) return false;
    const pid = Number(m[1]);
    if (pid === process.pid || !isProcessAlive(pid)) return false;
    try {
      return Date.now() - (await stat(full)).mtimeMs <= staleTempMs;
    } catch {
      return true; // vanished meanwhile: its owner used it
    }
  }

  async function* listObjects(): AsyncIterable<{ storageKey: string; sha256: string; mtimeMs: number }> {
    for (const a of await readdir(objectsDir)) {
      if (!/^[0-9a-f]{2}$/.test(a)) continue;
      for (const b of await readdir(join(objectsDir, a)).catch(() => [] as string[])) {
        if (!/^[0-9a-f]{2}$/.test(b)) continue;
        for (const name of await readdir(join(objectsDir, a, b)).catch(() => [] as string[])) {
          const storageKey = `objects/${a}/${b}/${name}`;
          const m = STORAGE_KEY.exec(storageKey);
          if (!m) continue;
          const st = await stat(join(objectsDir, a, b, name)).catch(() => undefined);
          if (st) yield { storageKey, sha256: m[3] as string, mtimeMs: st.mtimeMs };
        }
      }
    }
  }

  async function removeObject(storageKey: string): Promise<void> {
    const path = pathOf(storageKey);
    try {
      await unlink(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return;
    }
    await fsyncDir(dirname(path));
  }

  async function close(): Promise<void> {
    await staging?.close();
    await dirSync.flush();
  }

  const sweptTempFiles = await sweepTemp();
  return {
    rootDir,
    sweptTempFiles,
    beginWrite,
    writeObject,
    prepareWrite,
    recoverStaging,
    close,
    hasSpace,
    freeBytes,
    pathOf,
    storageKeyOf: storageKeyForSha256,
    exists,
    sweepTemp,
    listObjects,
    removeObject,
  };
}

const fsyncFd = promisify(fsync);

/**
 * fsync a directory so that a rename or create inside it survives a power cut. The open and the
 * close are synchronous: a directory we just touched is a cached path lookup (microseconds),
 * cheaper than two threadpool round trips per object; only the fsync waits on the disk.
 */
async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

function sha256Of(parts: readonly Buffer[]): string {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return hash.digest('hex');
}

const writevFd = promisify(writev);

/** writev until every byte is written (a short write continues where it stopped). */
async function writeAll(writevOnce: (buffers: Buffer[]) => Promise<{ bytesWritten: number }>, buffers: readonly Buffer[]): Promise<number> {
  let pending = buffers.filter((b) => b.length > 0);
  let written = 0;
  while (pending.length > 0) {
    const total = pending.reduce((n, b) => n + b.length, 0);
    const { bytesWritten } = await writevOnce(pending);
    written += bytesWritten;
    if (bytesWritten >= total) break;
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const b of pending) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      rest.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
    pending = rest;
  }
  return written;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Writable over a FileHandle that hashes every chunk on its way to disk and fdatasyncs in
 * `_final`, so `finish` means "bytes durable". Uses writev to batch small PDV fragments.
 */
class HashingFileWritable extends Writable {
  bytesWritten = 0;
  private closePromise: Promise<void> | undefined;
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly fh: FileHandle,
    private readonly hash: Hash,
  ) {
    super({ highWaterMark: STREAM_HIGH_WATER_MARK, decodeStrings: true });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.hash.update(chunk);
    this.track(this.writeAll([chunk]), cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    const buffers = chunks.map((c) => c.chunk);
    for (const b of buffers) this.hash.update(b);
    this.track(this.writeAll(buffers), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.track(this.fh.datasync(), cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.closeFile().then(
      () => cb(err),
      (closeErr: unknown) => cb(err ?? (closeErr as Error)),
    );
  }

  /** Closes the file handle once, after any write in flight has settled. */
  closeFile(): Promise<void> {
    this.closePromise ??= this.inFlight.then(
      () => this.fh.close(),
      () => this.fh.close(),
    );
    return this.closePromise;
  }

  digest(): string {
    return this.hash.digest('hex');
  }

  private track(p: Promise<unknown>, cb: (err?: Error | null) => void): void {
    this.inFlight = p;
    p.then(
      () => cb(),
      (e: unknown) => cb(e as Error),
    );
  }

  private async writeAll(buffers: Buffer[]): Promise<void> {
    this.bytesWritten += await writeAll((b) => this.fh.writev(b), buffers);
  }
}

