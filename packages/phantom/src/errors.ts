/**
 * Errors of the phantom generator. A bad levels spec or option is the caller's mistake
 * (a CLI flag, a test fixture); the message names the offending token so it can be fixed.
 */
export class PhantomError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A levels spec such as "L4-L5:protrusion,L5-S1:bulge" that cannot be parsed; `token` is the bad part. */
export class PhantomSpecError extends PhantomError {
  constructor(
    message: string,
    readonly token: string,
  ) {
    super(message);
  }
}

/** An option outside its allowed range (matrix size, slice count, transfer syntax, count). */
export class PhantomOptionError extends PhantomError {}
