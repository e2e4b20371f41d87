import { createHash, type Hash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { ScpPendingWrite } from './scp-types.js';

/**
 * A growable byte buffer for received datasets, lent to one C-STORE at a time and given back
 * when its response is written: an association reuses one buffer for every instance instead of
 * allocating (and, once promoted, garbage-collecting) half a megabyte of chunks per instance.
 */
export class ReceiveBuffer {
  private bytes: Buffer;
  length = 0;

  constructor(initialCapacity: number) {
    this.bytes = Buffer.allocUnsafeSlow(initialCapacity);
  }

  get capacity(): number {
    return this.bytes.length;
  }

  append(chunk: Buffer): void {
    const need = this.length + chunk.length;
    if (need > this.bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(need, this.bytes.length * 2));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    chunk.copy(this.bytes, this.length);
    this.length = need;
  }

  /** The bytes received so far (a view: valid until the buffer is reset or grows). */
  view(): Buffer {
    return this.bytes.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }
}

/**
 * Receives one C-STORE dataset. Datasets up to `keepLimit` are copied into a {@link ReceiveBuffer}
 * and hashed as they arrive, and reach the disk in one write once complete and validated, so an
 * invalid one never touches the disk; beyond `keepLimit` the spool spills to a temp file in the
 * store and streams the rest there, with back-pressure. The fast path calls {@link append}
 * directly; dcmjs-dimse's path writes through the Writable interface.
 */
export class DatasetSpool extends Writable {
  /** The in-memory dataset; undefined once spilled (the temp file then owns the bytes). */
  memory: ReceiveBuffer | undefined;
  /** sha256 of header + dataset, computed as the bytes arrive (off the post-receive critical path). */
  readonly hash: Hash;
  bytes = 0;
  target: ScpPendingWrite | undefined;
  failure: Error | undefined;
  private spill: Promise<void> | undefined;

  constructor(
    private readonly openTarget: () => Promise<ScpPendingWrite | undefined>,
    private readonly header: Buffer,
    private readonly keepLimit: number,
    memory: ReceiveBuffer,
    highWaterMark: number,
  ) {
    super({ highWaterMark });
    this.memory = memory;
    this.hash = createHash('sha256').update(header);
  }

  /** True once the dataset went to a temp file (too large to keep) or was refused while spilling. */
  get spilled(): boolean {
    return this.spill !== undefined;
  }

  /** Resolves when the temp file (if any) is open and every chunk was handed to it. */
  spillSettled(): Promise<void> {
    return this.spill ?? Promise.resolve();
  }

  /**
   * Takes the next dataset bytes synchronously while they fit in memory (the chunk may be a view
   * of a socket buffer: it is copied); otherwise goes through the stream. Returns false when the
   * caller should wait for 'drain'.
   */
  append(chunk: Buffer): boolean {
    if (!this.spill && this.bytes + chunk.length <= this.keepLimit && this.memory) {
      this.keep(chunk);
      return true;
    }
    return this.write(chunk);
  }

  private keep(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.memory?.append(chunk);
    this.hash.update(chunk);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this._writev([{ chunk }], cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    if (!this.spill) {
      for (const c of chunks) this.keep(c.chunk);
      if (this.bytes <= this.keepLimit) {
        cb();
        return;
      }
      const kept = this.memory?.view();
      this.memory = undefined; // the temp file takes over; the buffer is not given back
      this.spill = this.openTarget().then(
        (target) => {
          this.target = target;
          if (target) {
            target.stream.write(this.header);
            if (kept) target.stream.write(kept);
          }
        },
        (err: unknown) => {
          this.failure ??= err as Error;
        },
      );
      this.spill.then(() => this.drainInto(cb), () => cb());
      return;
    }
    for (const c of chunks) this.bytes += c.chunk.length;
    this.spill.then(() => this.forward(chunks, cb), () => cb());
  }

  private drainInto(cb: (err?: Error | null) => void): void {
    const stream = this.target?.stream;
    if (!stream || stream.destroyed || !stream.writableNeedDrain) cb();
    else stream.once('drain', () => cb());
  }

  private forward(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    const stream = this.target?.stream;
    if (!stream || this.failure || stream.destroyed) {
      cb(); // refused or failed: keep reading the PDVs, answer a failure status at the end
      return;
    }
    let ok = true;
    for (const c of chunks) ok = stream.write(c.chunk);
    if (ok) cb();
    else stream.once('drain', () => cb());
  }
}
