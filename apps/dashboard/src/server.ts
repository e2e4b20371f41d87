/**
 * The dashboard's Fastify server: security headers, signed+encrypted session cookies, CSRF on
 * every state-changing request, login with rate limiting, static assets (our CSS, htmx and its
 * SSE extension from node_modules: no CDN, no build step), and the view and action routes.
 */
import { hkdfSync } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySecureSession from '@fastify/secure-session';
import fastifyStatic from '@fastify/static';
import type { Logger } from '@ldh/config';
import { requireUser, type AuthProvider } from './auth.js';
import { loginPage, type PageContext } from './views/layout.js';
import { registerViewRoutes, type ViewDeps } from './routes.js';

export interface ServerOptions extends ViewDeps {
  auth: AuthProvider;
  secret: string;
  secureCookie: boolean;
  sessionTtlS: number;
  loginLimit: number;
  logger: Logger;
}

const require = createRequire(import.meta.url);
const PUBLIC_DIR = path.join(import.meta.dirname, '../public');

/** Only same-site paths may be a post-login target (no open redirect). */
function safeNext(v: unknown): string {
  return typeof v === 'string' && v.startsWith('/') && !v.startsWith('//') && !v.startsWith('/\\') ? v : '/';
}

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  // pino's Logger and Fastify's logger type differ only in generics: one logger, typed as Fastify's.
  const app = Fastify({ loggerInstance: opts.logger.child({ component: 'dashboard-http' }) as unknown as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), trustProxy: false, bodyLimit: 64 * 1024 });
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        ...(opts.secureCookie ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    hsts: opts.secureCookie ? { maxAge: 15_552_000 } : false,
    referrerPolicy: { policy: 'same-origin' },
  });
  // A 32-byte key derived from the configured secret (HKDF): the secret may be any length >= 32.
  const key = Buffer.from(hkdfSync('sha256', opts.secret, 'ldh-dashboard', 'session-cookie-v1', 32));
  await app.register(fastifySecureSession, {
    key,
    cookieName: opts.secureCookie ? '__Host-ldh' : 'ldh',
    expiry: opts.sessionTtlS,
    cookie: { path: '/', httpOnly: true, secure: opts.secureCookie, sameSite: 'strict', maxAge: opts.sessionTtlS },
  });
  await app.register(fastifyCsrf, { sessionPlugin: '@fastify/secure-session' });
  await app.register(fastifyFormbody);
  await app.register(fastifyRateLimit, { global: false });
  await app.register(fastifyStatic, {
    root: [PUBLIC_DIR, path.dirname(require.resolve('htmx.org/dist/htmx.min.js')), path.dirname(require.resolve('htmx-ext-sse'))],
    prefix: '/static/',
    allowedPath: (p) => ['/app.css', '/htmx.min.js', '/sse.js'].includes(p),
    maxAge: 3_600_000,
    index: false,
    list: false,
  });

  app.decorateRequest('user', null);
  app.addHook('onRequest', async (req) => {
    const uid = req.session.get('uid');
    const sv = req.session.get('sv');
    const exp = req.session.get('exp');
    if (!uid || sv === undefined || !exp) return;
    if (Date.now() > exp) {
      req.session.delete();
      return;
    }
    req.user = await opts.auth.resolveSession(uid, sv);
    if (!req.user) req.session.delete();
  });

  const ctxOf = (req: FastifyRequest, csrfToken: string): PageContext => ({ user: req.user, csrfToken, path: req.url.split('?')[0]!, flash: null });

  app.get('/login', async (req, reply) => {
    if (req.user) return reply.redirect('/', 303);
    const next = safeNext((req.query as { next?: unknown }).next);
    return reply.type('text/html; charset=utf-8').send(loginPage(ctxOf(req, reply.generateCsrf()), { next }).value);
  });

  app.post(
    '/login',
    {
      preHandler: app.csrfProtection,
      config: {
        rateLimit: {
          max: opts.loginLimit,
          timeWindow: 60_000,
          hook: 'preHandler',
          // Per client address and user name: one attacker cannot lock every user out, nor guess one user's password from many names.
          keyGenerator: (req: FastifyRequest) => `${req.ip}|${String((req.body as { name?: unknown } | undefined)?.name ?? '').slice(0, 64)}`,
        },
      },
    },
    async (req, reply) => {
      const body = (req.body ?? {}) as { name?: unknown; password?: unknown; next?: unknown };
      const name = typeof body.name === 'string' ? body.name.trim() : '';
      const password = typeof body.password === 'string' ? body.password : '';
      const next = safeNext(body.next);
      const identity = name && password && opts.auth.verifyPassword ? await opts.auth.verifyPassword(name, password) : null;
      if (!identity) {
        req.log.info({ event: 'login.failed' }, 'login failed');
        return reply.code(401).type('text/html; charset=utf-8').send(loginPage(ctxOf(req, reply.generateCsrf()), { error: 'Wrong user name or password, or the user is disabled.', name, next }).value);
      }
      // A fresh session (a new CSRF secret too): nothing from before the login carries over.
      req.session.regenerate();
      req.session.set('uid', identity.id);
      req.session.set('sv', identity.sessionVersion);
      req.session.set('exp', Date.now() + opts.sessionTtlS * 1000);
      req.log.info({ event: 'login', role: identity.role }, 'signed in');
      return reply.redirect(next, 303);
    },
  );

  app.post('/logout', { preHandler: app.csrfProtection }, async (req, reply) => {
    req.session.delete();
    return reply.redirect('/login', 303);
  });

  app.get('/events', { preHandler: requireUser }, async (_req, reply) => {
    opts.live.attach(reply);
  });

  await registerViewRoutes(app, opts);
  return app;
}
