/**
 * Pre-created staging files: the fast way to make received bytes durable.
 *
 * Why: the classic sequence (create temp file, write, fdatasync, rename, fsync the directory)
 * puts a file creation and a directory fsync on the path of every acknowledged instance. Here
 * the files are created ahead of time in batches, opened with O_DSYNC, and their directory
 * entries made durable with ONE fsync of `staging/` per batch. Writing an object is then a
 * single writev to an already durable name: when it returns, data and name survive a power cut.
 * The SCP tops the pool up one file per arriving C-STORE ({@link StagingPool.prepare}), so the
 * creates overlap receiving rather than landing as a burst beside the next durable writes.
 *
 * The object is then renamed to its content address at once, but the fsync of the `objects/`
 * directories that makes the rename itself durable is batched in the background
 * ({@link DirSyncBatcher}). A crash before that batch leaves the bytes under one of their two
 * names (rename is atomic across a crash on journaling filesystems: ext4 with its journal, XFS),
 * and {@link recoverStaging} at startup moves every staging file whose content an Instance row
 * references to its content address and deletes the rest (never acknowledged).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants as fsConstants, open } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * One pre-created, durable, empty staging file, open for writing with O_DSYNC. A plain
 * descriptor rather than a FileHandle: whoever takes it closes it with `closeSync` once the
 * write returned (no flush is pending then: microseconds, not a threadpool round trip).
 */
export interface StagingFile {
  readonly path: string;
  readonly fd: number;
}

const openFd = promisify(open);

/** Closes descriptors, ignoring errors (used on cleanup paths). */
export function closeQuietly(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      closeSync(fd);
    } catch {
      // already closed or invalid: nothing left to release
    }
  }
}

/** Options of {@link StagingPool}. */
export interface StagingPoolOptions {
  dir: string;
  /** fsync of a directory (the store's cached-handle version). */
  fsyncDir(dir: string): Promise<void>;
  /** Files created per batch (one directory fsync each); default 32. */
  batchSize?: number;
  /** Refill in the background when fewer than this many are left; default 8. */
  lowWater?: number;
  /** Files made by {@link StagingPool.prepare} per directory fsync; default 16. */
  preparedPerSync?: number;
  /**
   * prepare() creates nothing while this many files are pooled or being prepared (default
   * 4 × batchSize): C-STOREs that end before their write (invalid datasets, refusals) must not
   * pile up open files until the process runs out of descriptors.
   */
  maxPooled?: number;
}

const STAGING_FLAGS = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_DSYNC;

/** Name of a staging file: owner pid first, so a second process can tell its files from a dead one's. */
export const STAGING_NAME = /^(\d+)-[0-9a-f]+\.stage$/;

/** A pool of durable empty staging files, refilled in the background. */
export class StagingPool {
  private readonly available: StagingFile[] = [];
  /** Made by {@link prepare}, names not durable yet: handed out only after the next directory fsync. */
  private readonly prepared: StagingFile[] = [];
  private preparing: Promise<void> = Promise.resolve();
  /** prepare() calls queued and not finished yet. */
  private queued = 0;
  private refilling: Promise<void> | undefined;
  private readonly batchSize: number;
  private readonly lowWater: number;
  private readonly preparedPerSync: number;
  private readonly maxPooled: number;
  private closed = false;

  constructor(private readonly opts: StagingPoolOptions) {
    this.batchSize = opts.batchSize ?? 32;
    this.lowWater = opts.lowWater ?? 8;
    this.preparedPerSync = Math.max(1, opts.preparedPerSync ?? 16);
    this.maxPooled = opts.maxPooled ?? 4 * this.batchSize;
  }

  /** Files pooled (durable or not yet) plus those being prepared. */
  get pooled(): number {
    return this.available.length + this.prepared.length + this.queued;
  }

  /**
   * Creates one file ahead of need, in the background, one at a time. The SCP calls it when a
   * C-STORE command arrives, so the inode allocation (~0.2–0.4 ms here) runs while the dataset is
   * still arriving instead of as a burst of {@link batchSize} creates that competes with the
   * durable writes of the next instances (at 1 association those are on the ACK path). The
   * names become durable with one directory fsync per `preparedPerSync` files; only then are
   * they handed out. When preparation keeps up, {@link take} never waits for a refill.
   */
  prepare(): void {
    if (this.closed || this.pooled >= this.maxPooled) return;
    this.queued += 1;
    this.preparing = this.preparing
      .then(() => this.prepareOne())
      .catch(() => undefined)
      .finally(() => {
        this.queued -= 1;
      });
  }

  private async prepareOne(): Promise<void> {
    if (this.closed) return;
    const path = join(this.opts.dir, `${process.pid}-${randomBytes(8).toString('hex')}.stage`);
    const fd = await openFd(path, STAGING_FLAGS, 0o640);
    if (this.closed) return closeQuietly([fd]);
    this.prepared.push({ path, fd });
    if (this.prepared.length < this.preparedPerSync) return;
    const batch = this.prepared.splice(0);
    try {
      await this.opts.fsyncDir(this.opts.dir);
    } catch (err) {
      this.prepared.unshift(...batch); // not durable: retried with the next fsync
      throw err;
    }
    if (this.closed) return closeQuietly(batch.map((f) => f.fd));
    this.available.push(...batch);
  }

  /**
   * A durable empty file to write into. Normally taken from the pool; when a burst emptied it,
   * waits for the batch being created (still one directory fsync per batch, never per file).
   */
  async take(): Promise<StagingFile> {
    for (;;) {
      const file = this.available.pop();
      // A background refill's failure (e.g. ENOSPC) surfaces on the next awaited refill.
      if (this.available.length < this.lowWater) this.refill().catch(() => undefined);
      if (file) return file;
      await this.refill();
    }
  }

  /** Starts (or joins) the creation of a batch; resolves when it is in the pool. */
  refill(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('staging pool closed'));
    this.refilling ??= this.createBatch().finally(() => {
      this.refilling = undefined;
    });
    return this.refilling;
  }

  private async createBatch(): Promise<void> {
    const created: StagingFile[] = [];
    try {
      for (let i = 0; i < this.batchSize; i++) {
        const path = join(this.opts.dir, `${process.pid}-${randomBytes(8).toString('hex')}.stage`);
        created.push({ path, fd: await openFd(path, STAGING_FLAGS, 0o640) });
      }
      // The new names are durable before any of them is handed out.
      await this.opts.fsyncDir(this.opts.dir);
    } catch (err) {
      closeQuietly(created.map((f) => f.fd));
      throw err;
    }
    if (this.closed) {
      closeQuietly(created.map((f) => f.fd));
      return;
    }
    this.available.push(...created);
  }

  /** Closes the open handles of unused files (they stay on disk, empty; the next recovery removes them). */
  async close(): Promise<void> {
    this.closed = true;
    await this.refilling?.catch(() => undefined);
    await this.preparing;
    closeQuietly([...this.available.splice(0), ...this.prepared.splice(0)].map((f) => f.fd));
  }
}

/**
 * Collects directories whose new entries must become durable and fsyncs them together, off the
 * acknowledgement path: while one batch is being synced, the next one accumulates. `sync(dir)`
 * resolves once an fsync of `dir` that started after the call has completed.
 */
export class DirSyncBatcher {
  private pending = new Set<string>();
  private waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  private running: Promise<void> | undefined;

  constructor(private readonly fsyncDir: (dir: string) => Promise<void>) {}

  sync(dirs: readonly string[]): Promise<void> {
    for (const d of dirs) this.pending.add(d);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.running) this.running = this.loop();
    return done;
  }

  /** Resolves when everything requested so far is durable. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const dirs = [...this.pending];
        const waiters = this.waiters;
        this.pending = new Set();
        this.waiters = [];
        try {
          await Promise.all(dirs.map((d) => this.fsyncDir(d)));
          for (const w of waiters) w.resolve();
        } catch (err) {
          for (const w of waiters) w.reject(err);
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
