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
}

/** The dataset does not parse as a sequence of DICOM elements; the message names the tag and offset. */
export class DatasetStructureError extends Error {
  override readonly name = 'DatasetStructureError';
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
const UNDEFINED = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_DELIM = 0xfffee00d;
const SEQ_DELIM = 0xfffee0dd;
const PIXEL_DATA = 0x7fe00010;
const MAX_DEPTH = 64;

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

class Walker {
  constructor(
    private readonly buf: Bytes,
    private readonly le: boolean,
    private readonly wanted: ReadonlySet<number>,
  ) {}

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
      if (len === UNDEFINED) {
        if (tag === PIXEL_DATA || (explicitVr && vr !== 'SQ' && vr !== 'UN')) {
          // Encapsulated pixel data (or any undefined-length OB): fragments until the sequence delimiter.
          pos = this.walkItems(valuePos, end, explicitVr, depth + 1, true, tag);
        } else {
          // A sequence; an undefined-length UN holds implicit VR little endian content (PS3.5 6.2.2).
          pos = this.walkItems(valuePos, end, vr === 'UN' ? false : explicitVr, depth + 1, false, tag);
        }
      } else {
        this.need(valuePos, len, end, `value of ${hexTag(tag)}`);
        if (top && this.wanted.has(tag)) top.values.set(tag, { vr, offset: valuePos, length: len });
        pos = valuePos + len;
      }
    }
    if (untilItemDelim) throw new DatasetStructureError('missing item delimiter before end of data');
    return pos;
  }

  /** Items of an undefined-length sequence or encapsulated pixel data, up to the sequence delimiter. */
  walkItems(pos: number, end: number, explicitVr: boolean, depth: number, fragments: boolean, owner: number): number {
    for (;;) {
      this.need(pos, 8, end, `item header in ${hexTag(owner)}`);
      const tag = this.tag(pos);
      const len = this.u32(pos + 4);
      if (tag === SEQ_DELIM) return pos + 8;
      if (tag !== ITEM) throw new DatasetStructureError(`expected an item in ${hexTag(owner)} at offset ${pos}, found ${hexTag(tag)}`);
      if (len === UNDEFINED) {
        if (fragments) throw new DatasetStructureError(`undefined-length fragment in ${hexTag(owner)} at offset ${pos}`);
        pos = this.walkElements(pos + 8, end, explicitVr, depth, true);
      } else {
        this.need(pos + 8, len, end, `item of ${hexTag(owner)}`);
        pos = pos + 8 + len;
      }
    }
  }
}

/**
 * Checks that `buf[start..]` is a complete dataset in the given encoding (values are skipped,
 * not read: with a {@link FileBytes} only element headers come off the disk); throws
 * {@link DatasetStructureError} naming the tag and offset otherwise. Records where the values
 * of the `wanted` top-level tags are, so identifying attributes need no second parser.
 */
export function checkDatasetStructure(
  buf: Bytes,
  start: number,
  encoding: DatasetEncoding,
  wanted: ReadonlySet<number> = new Set(),
): DatasetStructure {
  const result: DatasetStructure = { topLevelElements: 0, values: new Map() };
  new Walker(buf, encoding.littleEndian, wanted).walkElements(start, buf.length, encoding.explicitVr, 0, false, result);
  return result;
}
