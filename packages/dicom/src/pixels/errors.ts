/**
 * The error every pixel-decoding failure becomes: bad or truncated pixel data, an attribute the
 * image needs is missing or out of range, or a transfer syntax no codec here decodes. The message
 * names the transfer syntax (UID and name) and the SOP Instance UID, never pixel values or PHI.
 */
export class PixelDecodeError extends Error {
  override readonly name = 'PixelDecodeError';
  /** Transfer syntax of the file, when it could be read. */
  readonly transferSyntaxUid?: string;
  /** SOP Instance UID of the file, when it could be read. */
  readonly sopInstanceUid?: string;
  constructor(message: string, context: { transferSyntaxUid?: string | undefined; sopInstanceUid?: string | undefined } = {}, options?: ErrorOptions) {
    super(message, options);
    if (context.transferSyntaxUid !== undefined) this.transferSyntaxUid = context.transferSyntaxUid;
    if (context.sopInstanceUid !== undefined) this.sopInstanceUid = context.sopInstanceUid;
  }
}
