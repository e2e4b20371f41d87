/** Errors of @ldh/worklist. Messages never carry patient data. */
export class WorklistError extends Error {
  override name = 'WorklistError';
}

/** A destination's configuration cannot work (missing/invalid credentials file, ...): permanent. */
export class WorklistConfigError extends WorklistError {
  override name = 'WorklistConfigError';
}
