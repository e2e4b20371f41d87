/**
 * Authentication and roles. Who a user is comes from an {@link AuthProvider}: today the local
 * one (argon2id users in Postgres, `ldh users add`); an OIDC provider for sites with an identity
 * provider is a second implementation of the same interface (redirect + callback routes that end
 * in the same `establishSession`). What a user may do is decided here, on the server, from the role.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, sessionUser, type UserRole, type UserRow } from '@ldh/ops';
import type { Db } from '@ldh/db';

export interface SessionIdentity {
  id: string;
  name: string;
  role: UserRole;
}

/** Where identities come from. `verifyPassword` is null for providers without passwords (OIDC). */
export interface AuthProvider {
  readonly kind: 'local' | 'oidc';
  verifyPassword: ((name: string, password: string) => Promise<SessionIdentity & { sessionVersion: number } | null>) | null;
  /** The identity behind a session cookie, re-checked on every request (disabled users are refused at once). */
  resolveSession(id: string, sessionVersion: number): Promise<SessionIdentity | null>;
}

/** Local users in Postgres (argon2id). */
export function localAuthProvider(db: Db): AuthProvider {
  const toIdentity = (u: UserRow) => ({ id: u.id, name: u.name, role: u.role, sessionVersion: u.sessionVersion });
  return {
    kind: 'local',
    async verifyPassword(name, password) {
      const u = await authenticate(db, name, password);
      return u ? toIdentity(u) : null;
    },
    async resolveSession(id, sessionVersion) {
      const u = await sessionUser(db, id, sessionVersion);
      return u ? toIdentity(u) : null;
    },
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    user: SessionIdentity | null;
  }
}

declare module '@fastify/secure-session' {
  interface SessionData {
    uid: string;
    sv: number;
    /** Absolute expiry (ms since epoch): the cookie is refused after it even if replayed. */
    exp: number;
    flash: string;
  }
}

/** The audit actor of a dashboard user. */
export function actorOf(user: SessionIdentity): string {
  return `user:${user.name}`;
}

/** preHandler: a signed-in user, else the login page (pages) or 401 (fragments, SSE, downloads). */
export async function requireUser(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (req.user) return;
  const wantsPage = req.method === 'GET' && !req.headers['hx-request'] && (req.headers.accept ?? '').includes('text/html');
  if (wantsPage) return void (await reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303));
  await reply.code(401).type('text/plain').send('sign in first');
}

/** preHandler: admins only (viewers read, admins act). */
export async function requireAdmin(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (!req.user) return requireUser(req, reply);
  if (req.user.role !== 'admin') await reply.code(403).type('text/plain').send('forbidden: this needs the admin role');
}
