import { ITEM, ITEM_DELIM, LONG_VRS, MAX_DEPTH, PIXEL_DATA, SEQ_DELIM, UNDEFINED_LENGTH as UNDEFINED } from '../element-encoding.js';
/**
 * A header-only walk over an encoded dataset: it skips every value and follows sequences and
 * encapsulated pixel data, so a truncated or malformed dataset is detected without decoding
 * (or copying) pixel data. A parser reading "until pixel data" cannot see a short final element.
 */

/** How the dataset is encoded (deflate is inflated before the walk). */
export interface DatasetEncoding {
  littleEndian: boolean;
  explicitVr: boolean;
}

/** What the walk learned. */
export interface DatasetStructure {
  /** Offset (in the walked buffer) of the top-level (7FE0,0010) tag, when present. */
  pixelDataOffset?: number;
  /** Number of top-level elements. */
  topLevelElements: number;
  /** Where the values of the requested top-level tags are (defined-length elements only). */
  values: Map<number, { vr: string | undefined; offset: number; length: number }>;
  /** Items of the captured top-level sequences ({@link CaptureSpec}), e.g. the functional groups. */
  sequences: Map<number, CapturedItem[]>;
  /** True when more items than {@link CaptureSpec.maxItems} were met: capture stopped there (the walk did not). */
  captureOverflow: boolean;
}

/** A value copied out of a captured sequence item (`bytes` undefined when longer than the spec allows). */
export interface CapturedValue {
  vr: string | undefined;
  length: number;
  bytes?: Buffer;
}

/** One item of a captured sequence: its wanted values and its captured nested sequences. */
export interface CapturedItem {
  values: Map<number, CapturedValue>;
  sequences: Map<number, CapturedItem[]>;
}

/**
 * Which nested content the walk copies out while it passes: the items of `sequences` (at the top
 * level and, recursively, inside captured items; defined or undefined length, also as UN or in
 * implicit VR, where a listed tag is taken to be a sequence) and, inside those items, the values
 * of `values`. Bounded: at most `maxItems` items in all and `maxValueBytes` per copied value.
 */
export interface CaptureSpec {
  sequences: ReadonlySet<number>;
  values: ReadonlySet<number>;
  maxItems: number;
  maxValueBytes: number;
}

/** The dataset does not parse as a sequence of DICOM elements; the message names the tag and offset. */
export class DatasetStructureError extends Error {
  override readonly name = 'DatasetStructureError';
}


function hexTag(tag: number): string {
  const h = tag.toString(16).toUpperCase().padStart(8, '0');
  return `(${h.slice(0, 4)},${h.slice(4)})`;
}

/**
 * Random-access bytes the walk reads: a Buffer, or a window over a file ({@link FileBytes}) so
 * a stored instance of any size is checked without reading its pixel data.
 */
export interface Bytes {
  readonly length: number;
  readUInt16LE(pos: number): number;
  readUInt16BE(pos: number): number;
  readUInt32LE(pos: number): number;
  readUInt32BE(pos: number): number;
  toString(encoding: 'latin1', start: number, end: number): string;
  subarray(start: number, end: number): Buffer;
}

const NO_CAPTURE: CaptureSpec = { sequences: new Set(), values: new Set(), maxItems: 0, maxValueBytes: 0 };

class Walker {
  /** Captured items so far (bounded by `capture.maxItems`). */
  private capturedItems = 0;
  overflow = false;

  constructor(
    private readonly buf: Bytes,
    private readonly le: boolean,
    private readonly wanted: ReadonlySet<number>,
    private readonly capture: CaptureSpec = NO_CAPTURE,
  ) {}

  /** A new capture target for one more item, or undefined once the bound is reached. */
  newItem(list: CapturedItem[] | undefined): CapturedItem | undefined {
    if (!list) return undefined;
    if (this.capturedItems >= this.capture.maxItems) {
      this.overflow = true;
      return undefined;
    }
    this.capturedItems += 1;
    const item: CapturedItem = { values: new Map(), sequences: new Map() };
    list.push(item);
    return item;
  }

  u16(pos: number): number {
    return this.le ? this.buf.readUInt16LE(pos) : this.buf.readUInt16BE(pos);
  }
  u32(pos: number): number {
    return this.le ? this.buf.readUInt32LE(pos) : this.buf.readUInt32BE(pos);
  }
  tag(pos: number): number {
    return ((this.u16(pos) << 16) | this.u16(pos + 2)) >>> 0;
  }

  need(pos: number, n: number, end: number, what: string): void {
    if (pos + n > end) {
      throw new DatasetStructureError(`truncated ${what} at offset ${pos}: ${n} bytes needed, ${Math.max(0, end - pos)} left`);
    }
  }

  /**
   * Walks elements from `pos` until `end`, or until an item delimiter when `untilItemDelim`.
   * Returns the position after the last consumed byte.
   */
  walkElements(
    pos: number,
    end: number,
    explicitVr: boolean,
    depth: number,
    untilItemDelim: boolean,
    top?: DatasetStructure,
    into?: CapturedItem,
  ): number {
    if (depth > MAX_DEPTH) throw new DatasetStructureError(`sequences nested deeper than ${MAX_DEPTH}`);
    while (pos < end) {
      this.need(pos, 8, end, 'element header');
      const tag = this.tag(pos);
      if (tag === ITEM_DELIM) {
        if (!untilItemDelim) throw new DatasetStructureError(`unexpected item delimiter at offset ${pos}`);
        return pos + 8;
      }
      if (tag === ITEM || tag === SEQ_DELIM) {
        throw new DatasetStructureError(`unexpected ${hexTag(tag)} at offset ${pos}`);
      }
      if (top && tag === PIXEL_DATA) top.pixelDataOffset = pos;
      let vr: string | undefined;
      let len: number;
      let valuePos: number;
      if (explicitVr) {
        vr = this.buf.toString('latin1', pos + 4, pos + 6);
        if (!/^[A-Z]{2}$/.test(vr)) throw new DatasetStructureError(`invalid VR at ${hexTag(tag)} offset ${pos}`);
        if (LONG_VRS.has(vr)) {
          this.need(pos, 12, end, `header of ${hexTag(tag)}`);
          len = this.u32(pos + 8);
          valuePos = pos + 12;
        } else {
          len = this.u16(pos + 6);
          valuePos = pos + 8;
        }
      } else {
        len = this.u32(pos + 4);
        valuePos = pos + 8;
      }
      if (top) top.topLevelElements += 1;
      // A sequence whose items we copy values out of (top level, or inside a captured item).
      const captured = (top !== undefined || into !== undefined) && this.capture.sequences.has(tag) && (!explicitVr || vr === 'SQ' || vr === 'UN');
      let list: CapturedItem[] | undefined;
      if (captured) {
        const owner = top ? top.sequences : (into as CapturedItem).sequences;
        list = owner.get(tag) ?? [];
        owner.set(tag, list);
      }
      if (len === UNDEFINED) {
        if (captured) {
          pos = this.walkItems(valuePos, end, vr === 'UN' ? false : explicitVr, depth + 1, false, tag, list);
        } else if (tag === PIXEL_DATA || (explicitVr && vr !== 'SQ' && vr !== 'UN')) {
          // Encapsulated pixel data (or any undefined-length OB): fragments until the sequence delimiter.
          pos = this.walkItems(valuePos, end, explicitVr, depth + 1, true, tag);
        } else {
          // A sequence; an undefined-length UN holds implicit VR little endian content (PS3.5 6.2.2).
          pos = this.walkItems(valuePos, end, vr === 'UN' ? false : explicitVr, depth + 1, false, tag);
        }
      } else {
        this.need(valuePos, len, end, `value of ${hexTag(tag)}`);
        if (top && this.wanted.has(tag)) top.values.set(tag, { vr, offset: valuePos, length: len });
        if (captured) {
          // A defined-length sequence: its items end exactly at the value's end.
          this.walkDefinedItems(valuePos, valuePos + len, vr === 'UN' ? false : explicitVr, depth + 1, tag, list);
        } else if (into && this.capture.values.has(tag)) {
          const value: CapturedValue = { vr, length: len };
          if (len <= this.capture.maxValueBytes) value.bytes = this.buf.subarray(valuePos, valuePos + len);
          into.values.set(tag, value);
        }
        pos = valuePos + len;
      }
    }
    if (untilItemDelim) throw new DatasetStructureError('missing item delimiter before end of data');
    return pos;
  }

  /** Items of an undefined-length sequence or encapsulated pixel data, up to the sequence delimiter (captured into `list` when given). */
  walkItems(pos: number, end: number, explicitVr: boolean, depth: number, fragments: boolean, owner: number, list?: CapturedItem[]): number {
    for (;;) {
      this.need(pos, 8, end, `item header in ${hexTag(owner)}`);
      const tag = this.tag(pos);
      const len = this.u32(pos + 4);
      if (tag === SEQ_DELIM) return pos + 8;
      if (tag !== ITEM) throw new DatasetStructureError(`expected an item in ${hexTag(owner)} at offset ${pos}, found ${hexTag(tag)}`);
      const into = this.newItem(list);
      if (len === UNDEFINED) {
        if (fragments) throw new DatasetStructureError(`undefined-length fragment in ${hexTag(owner)} at offset ${pos}`);
        pos = this.walkElements(pos + 8, end, explicitVr, depth, true, undefined, into);
      } else {
        this.need(pos + 8, len, end, `item of ${hexTag(owner)}`);
        if (into) this.walkElements(pos + 8, pos + 8 + len, explicitVr, depth, false, undefined, into);
        pos = pos + 8 + len;
      }
    }
  }

  /** Items of a defined-length sequence spanning exactly `[pos, end)`, captured into `list`. */
  walkDefinedItems(pos: number, end: number, explicitVr: boolean, depth: number, owner: number, list: CapturedItem[] | undefined): void {
    while (pos < end) {
      this.need(pos, 8, end, `item header in ${hexTag(owner)}`);
      const tag = this.tag(pos);
      const len = this.u32(pos + 4);
      if (tag !== ITEM) throw new DatasetStructureError(`expected an item in ${hexTag(owner)} at offset ${pos}, found ${hexTag(tag)}`);
      const into = this.newItem(list);
      if (len === UNDEFINED) {
        pos = this.walkElements(pos + 8, end, explicitVr, depth, true, undefined, into);
      } else {
        this.need(pos + 8, len, end, `item of ${hexTag(owner)}`);
        this.walkElements(pos + 8, pos + 8 + len, explicitVr, depth, false, undefined, into);
        pos = pos + 8 + len;
      }
    }
  }
}

/**
 * Checks that `buf[start..]` is a complete dataset in the given encoding (values are skipped,
 * not read: with a {@link FileBytes} only element headers come off the disk); throws
 * {@link DatasetStructureError} naming the tag and offset otherwise. Records where the values
 * of the `wanted` top-level tags are, so identifying attributes need no second parser, and copies
 * out the nested content `capture` asks for (functional groups) in the same pass.
 */
export function checkDatasetStructure(
  buf: Bytes,
  start: number,
  encoding: DatasetEncoding,
  wanted: ReadonlySet<number> = new Set(),
  capture?: CaptureSpec,
): DatasetStructure {
  const result: DatasetStructure = { topLevelElements: 0, values: new Map(), sequences: new Map(), captureOverflow: false };
  const walker = new Walker(buf, encoding.littleEndian, wanted, capture);
  walker.walkElements(start, buf.length, encoding.explicitVr, 0, false, result);
  result.captureOverflow = walker.overflow;
  return result;
}
