/**
 * Errors of `@ldh/sr`. Bad input is a permanent failure (the report job must not retry it),
 * so callers map {@link SrInputError} to BullMQ's `UnrecoverableError`; the messages name the
 * offending field and carry UIDs only, never patient data.
 */
export class SrError extends Error {
  override readonly name: string = 'SrError';
}

/** The builder input cannot make a valid SR/KOS (bad UID, probability out of range, duplicates...). */
export class SrInputError extends SrError {
  override readonly name = 'SrInputError';
  constructor(
    /** Dotted path of the offending input field, e.g. `images[2].sopInstanceUid`. */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Bytes handed to `describeReport` are not a measurement report this package can read. */
export class SrParseError extends SrError {
  override readonly name = 'SrParseError';
}
