export { UnrecoverableError } from 'bullmq';

/** A job payload failed its contract's schema: never retried (it would fail the same way). */
export class InvalidPayloadError extends Error {
  constructor(queue: string, issues: string) {
    super(`invalid ${queue} payload: ${issues}`);
    this.name = 'InvalidPayloadError';
  }
}
