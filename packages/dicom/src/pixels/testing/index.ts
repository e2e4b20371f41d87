// Test and benchmark helpers for pixel decoding (real encoders; see encode.ts).
export { writeNativeDicom, writeEncapsulatedDicom, transcodeWithDcmtk, encodeJ2k, encodeHtj2k, EXPLICIT_LE, type TestImage, type OffsetTable } from './encode.js';
export { syntheticImage } from './synthetic.js';
