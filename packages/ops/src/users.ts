/**
 * Local dashboard users: argon2id password hashes (@node-rs/argon2, OWASP's first choice for
 * password storage), admin | viewer roles, disable without delete (the audit trail keeps names).
 * Sessions carry `sessionVersion`; disabling bumps it so every cookie issued before is refused.
 */
import { hash, verify } from '@node-rs/argon2';
import { appendAudit, type Db } from '@ldh/db';

export const USER_ROLES = ['admin', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** User names: what the audit trail records as `user:<name>`. */
export const USER_NAME_PATTERN = /^[a-z][a-z0-9._-]{1,63}$/;
export const MIN_PASSWORD_LENGTH = 12;

export interface UserRow {
  id: string;
  name: string;
  role: UserRole;
  disabled: boolean;
  sessionVersion: number;
  lastLoginAt: string | null;
  createdAt: string;
}

/** Thrown for a bad name, a short password, a duplicate or an unknown user; the message says which. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

// OWASP's argon2id baseline (m = 19 MiB, t = 2, p = 1).
const ARGON2 = { algorithm: 2 /* Algorithm.Argon2id (a const enum) */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Hash a password with argon2id (PHC string: parameters and salt travel with the hash). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2);
}

function toRow(u: { id: string; name: string; role: UserRole; disabled: boolean; sessionVersion: number; lastLoginAt: Date | null; createdAt: Date }): UserRow {
  return { id: u.id, name: u.name, role: u.role, disabled: u.disabled, sessionVersion: u.sessionVersion, lastLoginAt: u.lastLoginAt?.toISOString() ?? null, createdAt: u.createdAt.toISOString() };
}

/** Create a user (audited as `user.added` by `operator`). */
export async function addUser(db: Db, input: { name: string; role: UserRole; password: string }, operator: string): Promise<UserRow> {
  if (!USER_NAME_PATTERN.test(input.name)) throw new UserError(`bad user name "${input.name}" (2-64 characters: lower-case letters, digits, . _ -, starting with a letter)`);
  if (!USER_ROLES.includes(input.role)) throw new UserError(`bad role "${input.role}" (expected ${USER_ROLES.join(' or ')})`);
  if (input.password.length < MIN_PASSWORD_LENGTH) throw new UserError(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  const passwordHash = await hashPassword(input.password);
  return db.$transaction(async (tx) => {
    if (await tx.user.findUnique({ where: { name: input.name } })) throw new UserError(`user "${input.name}" already exists`);
    const u = await tx.user.create({ data: { name: input.name, role: input.role, passwordHash } });
    await appendAudit(tx, { entityType: 'user', entityId: u.id, action: 'user.added', actor: operator, details: { name: u.name, role: u.role } });
    return toRow(u);
  });
}

export async function listUsers(db: Db): Promise<UserRow[]> {
  return (await db.user.findMany({ orderBy: { name: 'asc' } })).map(toRow);
}

/** Disable a user and revoke its sessions (audited as `user.disabled`). */
export async function disableUser(db: Db, name: string, operator: string): Promise<UserRow> {
  return db.$transaction(async (tx) => {
    const u = await tx.user.findUnique({ where: { name } });
    if (!u) throw new UserError(`no user "${name}"`);
    const updated = await tx.user.update({ where: { id: u.id }, data: { disabled: true, sessionVersion: { increment: 1 } } });
    await appendAudit(tx, { entityType: 'user', entityId: u.id, action: 'user.disabled', actor: operator, details: { name, wasDisabled: u.disabled } });
    return toRow(updated);
  });
}

// Verified against when the user does not exist, so a wrong name costs the same time as a wrong password.
let dummyHash: Promise<string> | null = null;

/** The enabled user with this name and password, or null (unknown, disabled or wrong password: one answer). */
export async function authenticate(db: Db, name: string, password: string): Promise<UserRow | null> {
  const u = await db.user.findUnique({ where: { name } });
  if (!u) {
    dummyHash ??= hashPassword('not a real password, only for timing');
    await verify(await dummyHash, password).catch(() => false);
    return null;
  }
  const ok = await verify(u.passwordHash, password).catch(() => false);
  if (!ok || u.disabled) return null;
  const updated = await db.user.update({ where: { id: u.id }, data: { lastLoginAt: new Date() } });
  return toRow(updated);
}

/** The user of a session cookie: enabled and with the same session version, else null. */
export async function sessionUser(db: Db, id: string, sessionVersion: number): Promise<UserRow | null> {
  const u = await db.user.findUnique({ where: { id } }).catch(() => null);
  if (!u || u.disabled || u.sessionVersion !== sessionVersion) return null;
  return toRow(u);
}
