/**
 * Typed errors of the instance store, so callers (the SCP) can map each failure to the right
 * DICOM status instead of parsing messages: no space → 0xA700, anything else → a failure.
 */
export class StorageError extends Error {
  override readonly name: string = 'StorageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The free-space guard refused a write: the disk is below `minFreeBytes` (or the write hit ENOSPC). */
export class InsufficientSpaceError extends StorageError {
  override readonly name = 'InsufficientSpaceError';
  constructor(
    readonly freeBytes: number,
    readonly minFreeBytes: number,
    options?: { cause?: unknown },
  ) {
    super(`insufficient disk space: ${freeBytes} bytes free, ${minFreeBytes} required`, options);
  }
}

/** A write was used after commit()/abort(), or committed twice: a programming error. */
export class WriteStateError extends StorageError {
  override readonly name = 'WriteStateError';
}

/** A storage key that is not of the form `objects/xx/yy/<sha256>.dcm` (guards against path traversal). */
export class InvalidStorageKeyError extends StorageError {
  override readonly name = 'InvalidStorageKeyError';
}
