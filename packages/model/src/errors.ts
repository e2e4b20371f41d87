/**
 * Typed errors of the model runtime. The worker maps them to job outcomes: a `ModelInputError`
 * is bad input (unrecoverable for that study), a `ModelCardError` / `ModelLoadError` is a
 * deployment fault (the worker must refuse to start), an `InferenceError` may be retried.
 * Messages name files, fields and indices — never pixel data or PHI.
 */

/** Base class so callers can `instanceof ModelError` for everything this package throws. */
export class ModelError extends Error {
  /** Stable machine-readable code, e.g. for audit records and metrics labels. */
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The model card is unreadable or invalid, or the ONNX file does not match it (sha256, I/O). */
export class ModelCardError extends ModelError {
  /** The card or ONNX file the problem was found in. */
  readonly file: string;
  /** The offending card field (dot path) or check, e.g. `sha256`, `input.size`. */
  readonly field: string | undefined;
  constructor(file: string, message: string, field?: string, options?: ErrorOptions) {
    super('MODEL_CARD_INVALID', `${file}: ${message}`, options);
    this.file = file;
    this.field = field;
  }
}

/** ONNX Runtime could not create a session for the model file. */
export class ModelLoadError extends ModelError {
  readonly file: string;
  constructor(file: string, message: string, options?: ErrorOptions) {
    super('MODEL_LOAD_FAILED', `${file}: ${message}`, options);
    this.file = file;
  }
}

/** An input tensor or image list does not satisfy the model's contract (size, NaN, empty...). */
export class ModelInputError extends ModelError {
  /** Index of the offending image in the request, when one image is at fault. */
  readonly index: number | undefined;
  constructor(message: string, index?: number, options?: ErrorOptions) {
    super('MODEL_INPUT_INVALID', message, options);
    this.index = index;
  }
}

/** ONNX Runtime failed while running a batch, or returned output of the wrong shape. */
export class InferenceError extends ModelError {
  constructor(message: string, options?: ErrorOptions) {
    super('INFERENCE_FAILED', message, options);
  }
}
