import { describe, expect, it } from 'vitest';
import { decodeRle16, encodeRle16 } from './rle.js';

describe('encodeRle16', () => {
  it('round-trips the worst case for PackBits (1-byte literals between 2-byte runs)', () => {
    const rows = 4;
    const cols = 320;
    const pixels = new Uint16Array(rows * cols);
    // Low bytes a, b, b, c, d, d, ...: every third byte starts a literal of one.
    for (let i = 0; i < pixels.length; i++) pixels[i] = ((i * 7) & 0xff00) | (i % 3 === 0 ? i & 0xff : (i - (i % 3) + 1) & 0xff);
    const encoded = encodeRle16(pixels, rows, cols);
    expect(encoded.byteLength % 2).toBe(0);
    expect(decodeRle16(encoded, rows, cols)).toEqual(pixels);
  });

  it('round-trips random data (no runs at all)', () => {
    const pixels = new Uint16Array(64 * 64);
    let x = 12345;
    for (let i = 0; i < pixels.length; i++) pixels[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 16;
    expect(decodeRle16(encodeRle16(pixels, 64, 64), 64, 64)).toEqual(pixels);
  });
});
