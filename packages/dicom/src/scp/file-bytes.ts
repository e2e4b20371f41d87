import { readSync } from 'node:fs';
import type { Bytes } from './dataset-structure.js';

/** Largest window (and the largest slice served from it): 64 KiB. */
const WINDOW_BYTES = 64 * 1024;
/** First read after a jump (a skipped value): element headers are small. */
const MIN_READ_BYTES = 4 * 1024;

/**
 * A file seen as {@link Bytes} through one reused window: the header walk over a stored instance
 * reads only the windows that hold element headers (and the few identifying values), so a
 * multi-gigabyte multi-frame object costs a few reads and 64 KiB of memory, not its size.
 * Synchronous reads on an open descriptor: the walk itself is synchronous, and it skips over
 * pixel data, so a walk takes a handful of reads — one small (4 KiB) read per fragment for
 * encapsulated pixel data; reads grow to 64 KiB only while headers follow one another.
 */
export class FileBytes implements Bytes {
  private readonly window = Buffer.allocUnsafe(WINDOW_BYTES);
  private windowStart = 0;
  private windowLength = 0;
  /** Bytes the next reload reads: doubles while the walk reads on from the window's end (dense headers), back to 4 KiB after a jump. */
  private readAhead = MIN_READ_BYTES;
  /** Bytes read from the file so far (what the walk really cost). */
  bytesRead = 0;

  constructor(
    private readonly fd: number,
    readonly length: number,
  ) {}

  /** Offset in the window of `[pos, pos + n)`, reading the window there when it is not loaded. */
  private at(pos: number, n: number): number {
    if (pos >= this.windowStart && pos + n <= this.windowStart + this.windowLength) return pos - this.windowStart;
    if (pos < 0 || pos + n > this.length) throw new RangeError(`read of ${n} bytes at ${pos} outside a file of ${this.length}`);
    const sequential = this.windowLength > 0 && pos >= this.windowStart && pos <= this.windowStart + this.windowLength;
    this.readAhead = sequential ? Math.min(WINDOW_BYTES, this.readAhead * 2) : MIN_READ_BYTES;
    this.windowStart = pos;
    this.windowLength = this.fill(this.window, Math.min(Math.max(n, this.readAhead), this.length - pos), pos);
    if (this.windowLength < n) throw new RangeError(`file shorter than its size: ${n} bytes at ${pos}`);
    return 0;
  }

  /** Reads `n` bytes at `pos` into `into` (fewer only at the end of the file). */
  private fill(into: Buffer, n: number, pos: number): number {
    let got = 0;
    while (got < n) {
      const r = readSync(this.fd, into, got, n - got, pos + got);
      if (r === 0) break;
      got += r;
    }
    this.bytesRead += got;
    return got;
  }

  readUInt16LE(pos: number): number {
    return this.window.readUInt16LE(this.at(pos, 2));
  }
  readUInt16BE(pos: number): number {
    return this.window.readUInt16BE(this.at(pos, 2));
  }
  readUInt32LE(pos: number): number {
    return this.window.readUInt32LE(this.at(pos, 4));
  }
  readUInt32BE(pos: number): number {
    return this.window.readUInt32BE(this.at(pos, 4));
  }
  toString(encoding: 'latin1', start: number, end: number): string {
    return this.subarray(start, end).toString(encoding);
  }

  /** A copy of `[start, end)` (the window is reused, so a view into it would change under the caller). */
  subarray(start: number, end: number): Buffer {
    const n = Math.max(0, end - start);
    if (n <= WINDOW_BYTES) {
      const o = this.at(start, n);
      return Buffer.from(this.window.subarray(o, o + n));
    }
    if (start < 0 || end > this.length) throw new RangeError(`read of ${n} bytes at ${start} outside a file of ${this.length}`);
    const out = Buffer.allocUnsafe(n);
    if (this.fill(out, n, start) < n) throw new RangeError(`file shorter than its size: ${n} bytes at ${start}`);
    return out;
  }
}
