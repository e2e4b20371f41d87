export { decodeFrame, type DecodedFrame, type DecodeFrameOptions } from './decode-frame.js';
export { PixelDecodeError } from './errors.js';
export { DECODABLE_TRANSFER_SYNTAXES, describeTransferSyntax } from './transfer-syntax.js';
export type { CodecSet } from './codecs.js';
