/**
 * Errors of the storage SCP. Each carries the DICOM status it maps to, so the C-STORE handler
 * answers the sender with the right code without string matching (dcmtk style: name the problem).
 */
export class ScpError extends Error {
  override readonly name: string = 'ScpError';
  constructor(
    message: string,
    /** DIMSE status to answer with (PS3.4 B.2.3 / PS3.7 C). */
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The received dataset cannot be parsed (truncated, malformed, bad deflate stream): 0xC000 "cannot understand". */
export class DatasetParseError extends ScpError {
  override readonly name = 'DatasetParseError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 0xc000, options);
  }
}

/** A required UID is missing or not a valid UID: 0xC000 with the tag named. */
export class InvalidInstanceError extends ScpError {
  override readonly name = 'InvalidInstanceError';
  constructor(message: string) {
    super(message, 0xc000);
  }
}

/** Dataset's SOP Class/Instance UID differ from the C-STORE command: 0xA900 (PS3.4 B.2.3). */
export class SopMismatchError extends ScpError {
  override readonly name = 'SopMismatchError';
  constructor(message: string) {
    super(message, 0xa900);
  }
}

/** We cannot take the instance now (disk low, sink overloaded or failing): 0xA700 "out of resources", sender retries. */
export class OutOfResourcesError extends ScpError {
  override readonly name = 'OutOfResourcesError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 0xa700, options);
  }
}
