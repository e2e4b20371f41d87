/** A state transition was attempted from a state that does not allow it (lost a race, or replayed). */
export class StateConflictError extends Error {
  constructor(
    public readonly entity: string,
    public readonly id: string,
    public readonly expected: readonly string[],
    public readonly target: string,
  ) {
    super(`${entity} ${id}: cannot move to ${target}; not in ${expected.join('|')}`);
    this.name = 'StateConflictError';
  }
}

/** A row the job refers to does not exist (deleted, or a bad payload). */
export class NotFoundError extends Error {
  constructor(entity: string, id: string) {
    super(`${entity} ${id} not found`);
    this.name = 'NotFoundError';
  }
}
