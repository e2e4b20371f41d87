/**
 * Finds, in an encoded dataset, every text value that the Specific Character Set applies to and
 * every (0008,0005) element, top level and inside sequence items (an item may declare its own
 * character set, PS3.5 7.5.3; nested items inherit it). The header reader decodes those bytes
 * itself, so no general parser ever decodes text with a guessed character set (dcmjs #508).
 */
import { CHARSET_TEXT_VRS, characterSetTerms } from './charset.js';
import { ITEM, ITEM_DELIM, LONG_VRS, MAX_DEPTH, PIXEL_DATA, SEQ_DELIM, UNDEFINED_LENGTH as UNDEFINED } from './element-encoding.js';

/** Where a value sits in the naturalized tree: tags (8 hex digits) and item indices. */
export type ElementPath = readonly (string | number)[];

export interface TextValue {
  path: ElementPath;
  vr: string;
  /** The Specific Character Set in force for this element (the item's own, else inherited). */
  characterSet: readonly string[];
  bytes: Uint8Array;
}

export interface CharsetLocations {
  texts: TextValue[];
  /** Every (0008,0005) element: the item holding it (`[]`: top level), its terms and value position. */
  characterSetValues: { path: ElementPath; terms: string[]; offset: number; length: number }[];
  /** Offset of the top-level Pixel Data element where the walk stopped (`untilPixelData`). */
  pixelDataOffset?: number;
}

/** The dataset's structure is broken where the walk needed it; the message names tag and offset. */
export class TextWalkError extends Error {
  override readonly name = 'TextWalkError';
}

const SPECIFIC_CHARACTER_SET = 0x00080005;

const hex = (tag: number): string => tag.toString(16).toUpperCase().padStart(8, '0');

export interface WalkOptions {
  littleEndian: boolean;
  explicitVr: boolean;
  /** Stop at the top-level Pixel Data element (as a header-only read does). */
  untilPixelData: boolean;
  /** Dictionary VR of a tag (for implicit VR data and for explicit UN), or undefined when unknown. */
  vrOf(tag: number): string | undefined;
}

class Walk {
  readonly out: CharsetLocations = { texts: [], characterSetValues: [] };
  private readonly view: DataView;
  constructor(
    private readonly buf: Uint8Array,
    private readonly opts: WalkOptions,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private u16(pos: number, le: boolean): number {
    return this.view.getUint16(pos, le);
  }
  private u32(pos: number, le: boolean): number {
    return this.view.getUint32(pos, le);
  }
  private need(pos: number, n: number, end: number, what: string): void {
    if (pos + n > end) throw new TextWalkError(`truncated ${what} at offset ${pos}`);
  }

  /** Dictionary VR for implicit data; odd-group element 0x10-0xFF is a private creator (LO). */
  private implicitVr(tag: number): string | undefined {
    const group = tag >>> 16;
    const elem = tag & 0xffff;
    if (group % 2 === 1 && elem >= 0x10 && elem <= 0xff) return 'LO';
    return this.opts.vrOf(tag);
  }

  elements(pos: number, end: number, le: boolean, explicitVr: boolean, path: (string | number)[], charset: string[], depth: number, untilItemDelim: boolean): number {
    if (depth > MAX_DEPTH) throw new TextWalkError(`sequences nested deeper than ${MAX_DEPTH}`);
    while (pos < end) {
      this.need(pos, 8, end, 'element header');
      const tag = ((this.u16(pos, le) << 16) | this.u16(pos + 2, le)) >>> 0;
      if (tag === ITEM_DELIM) {
        if (!untilItemDelim) throw new TextWalkError(`unexpected item delimiter at offset ${pos}`);
        return pos + 8;
      }
      if (tag === PIXEL_DATA && depth === 0 && this.opts.untilPixelData) {
        this.out.pixelDataOffset = pos;
        return end;
      }
      let vr: string | undefined;
      let unknownVr = false;
      let len: number;
      let valuePos: number;
      if (explicitVr) {
        vr = String.fromCharCode(this.buf[pos + 4]!, this.buf[pos + 5]!);
        if (LONG_VRS.has(vr)) {
          this.need(pos, 12, end, `header of (${hex(tag)})`);
          len = this.u32(pos + 8, le);
          valuePos = pos + 12;
        } else {
          len = this.u16(pos + 6, le);
          valuePos = pos + 8;
        }
        if (vr === 'UN') {
          unknownVr = true;
          vr = this.opts.vrOf(tag) ?? 'UN';
        }
      } else {
        vr = this.implicitVr(tag);
        len = this.u32(pos + 4, le);
        valuePos = pos + 8;
      }
      const key = hex(tag);
      if (len === UNDEFINED) {
        if (tag === PIXEL_DATA || (vr !== undefined && vr !== 'SQ' && vr !== 'UN')) {
          pos = this.items(valuePos, end, le, explicitVr, null, charset, depth + 1, false);
        } else {
          // A sequence; undefined-length UN content is implicit VR little endian (PS3.5 6.2.2).
          const implicitContent = unknownVr;
          pos = this.items(valuePos, end, implicitContent ? true : le, implicitContent ? false : explicitVr, [...path, key], charset, depth + 1, false);
        }
        continue;
      }
      this.need(valuePos, len, end, `value of (${key})`);
      if (vr === 'SQ') {
        this.items(valuePos, valuePos + len, unknownVr || le, explicitVr && !unknownVr, [...path, key], charset, depth + 1, true);
      } else if (tag === SPECIFIC_CHARACTER_SET) {
        const terms = characterSetTerms(Buffer.from(this.buf.buffer, this.buf.byteOffset + valuePos, len).toString('latin1'));
        this.out.characterSetValues.push({ path, terms, offset: valuePos, length: len });
        // Applies to the rest of this item (it sorts before every text attribute) and its children.
        charset.splice(0, charset.length, ...terms);
      } else if (vr !== undefined && CHARSET_TEXT_VRS.has(vr)) {
        this.out.texts.push({ path: [...path, key], vr, characterSet: [...charset], bytes: this.buf.subarray(valuePos, valuePos + len) });
      }
      pos = valuePos + len;
    }
    if (untilItemDelim) throw new TextWalkError('missing item delimiter before end of data');
    return pos;
  }

  /** Items up to `end` (defined length) or the sequence delimiter; `path` null for pixel fragments. */
  items(pos: number, end: number, le: boolean, explicitVr: boolean, path: (string | number)[] | null, charset: string[], depth: number, definedLength: boolean): number {
    for (let index = 0; ; index++) {
      if (definedLength && pos >= end) return pos;
      this.need(pos, 8, end, 'item header');
      const tag = ((this.u16(pos, le) << 16) | this.u16(pos + 2, le)) >>> 0;
      const len = this.u32(pos + 4, le);
      if (tag === SEQ_DELIM) return pos + 8;
      if (tag !== ITEM) throw new TextWalkError(`expected an item at offset ${pos}, found (${hex(tag)})`);
      if (path === null) {
        this.need(pos + 8, len, end, 'fragment');
        pos += 8 + len;
      } else if (len === UNDEFINED) {
        pos = this.elements(pos + 8, end, le, explicitVr, [...path, index], [...charset], depth, true);
      } else {
        this.need(pos + 8, len, end, 'item');
        this.elements(pos + 8, pos + 8 + len, le, explicitVr, [...path, index], [...charset], depth, false);
        pos += 8 + len;
      }
    }
  }
}

/** Walks `buf` (a whole dataset, no meta header) and returns its text values and charset elements. */
export function locateCharsetText(buf: Uint8Array, opts: WalkOptions): CharsetLocations {
  const walk = new Walk(buf, opts);
  walk.elements(0, buf.length, opts.littleEndian, opts.explicitVr, [], [], 0, false);
  return walk.out;
}
