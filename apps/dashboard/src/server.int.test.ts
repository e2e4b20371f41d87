/**
 * The dashboard's server against a real Postgres and Redis: sign-in (wrong password, missing
 * CSRF token, rate limit), roles (a viewer acting gets 403), session revocation on disable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@ldh/config';
import { createDb, createScratchDatabase, type Db } from '@ldh/db';
import { addUser, disableUser } from '@ldh/ops';
import { loadDashboardEnv } from './env.js';
import { startDashboard, type RunningDashboard } from './start.js';
import { DashboardClient } from './testing.js';

const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.LDH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_PW = 'correct horse battery staple';
const VIEWER_PW = 'viewer password 0123';

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
let dash: RunningDashboard;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-dash-'));

beforeAll(async () => {
  scratch = await createScratchDatabase(adminUrl);
  db = createDb(scratch.url);
  await addUser(db, { name: 'alice', role: 'admin', password: ADMIN_PW }, 'test');
  await addUser(db, { name: 'victor', role: 'viewer', password: VIEWER_PW }, 'test');
  await addUser(db, { name: 'dora', role: 'viewer', password: VIEWER_PW }, 'test');
  const env = loadDashboardEnv({
    DATABASE_URL: scratch.url,
    REDIS_URL: redisUrl,
    LDH_QUEUE_PREFIX: `ldh-dash-${process.pid}`,
    LDH_STORAGE_DIR: path.join(tmp, 'storage'),
    LDH_DASHBOARD_PORT: '0',
    LDH_DASHBOARD_SECRET: 'a test session key that is long enough 0123456789',
    LDH_DASHBOARD_SECURE_COOKIE: 'false',
    LDH_DASHBOARD_LOGIN_LIMIT: '4',
  });
  dash = await startDashboard(env, { logger: createLogger('test', { level: 'silent' }) });
});

afterAll(async () => {
  await dash?.stop();
  await db?.$disconnect();
  await scratch?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('dashboard sign-in and roles', () => {
  it('sends a visitor without a session to the login page', async () => {
    const res = await new DashboardClient(dash.url).request('/');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?next=%2F');
    const frag = await new DashboardClient(dash.url).request('/fragments/overview', { headers: { 'hx-request': 'true' } });
    expect(frag.status).toBe(401);
  });

  it('answers a wrong password with 401 and the form again, and sets security headers', async () => {
    const c = new DashboardClient(dash.url);
    const res = await c.login('alice', 'wrong password here');
    expect(res.status).toBe(401);
    const body = await res.text();
    expect(body).toContain('Wrong user name or password');
    expect(body).toContain('name="password"');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect((await c.request('/')).status).toBe(303);
  });

  it('refuses a login without a CSRF token (403)', async () => {
    const c = new DashboardClient(dash.url);
    await c.request('/login');
    const res = await c.request('/login', { form: { name: 'alice', password: ADMIN_PW } });
    expect(res.status).toBe(403);
  });

  it('signs an admin in with an httpOnly, SameSite=Strict cookie and shows the overview', async () => {
    const c = new DashboardClient(dash.url);
    const token = await c.csrfToken('/login');
    const res = await c.request('/login', { form: { _csrf: token, name: 'alice', password: ADMIN_PW, next: '/studies' } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/studies');
    const cookie = res.headers.getSetCookie().join('\n');
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const page = await c.request('/');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<h1>Overview</h1>');
    expect(html).toContain('alice');
    for (const p of ['/studies', '/dead-letters', '/destinations', '/model', '/audit']) expect((await c.request(p)).status, p).toBe(200);
  });

  it('refuses an admin action without a CSRF token (403) and a viewer acting with one (403)', async () => {
    const admin = new DashboardClient(dash.url);
    expect((await admin.login('alice', ADMIN_PW)).status).toBe(303);
    const noToken = await admin.request('/actions/deliveries', { form: { action: 'replay', id: '00000000-0000-0000-0000-000000000000' } });
    expect(noToken.status).toBe(403);
    const withToken = await admin.request('/actions/deliveries', { form: { _csrf: await admin.csrfToken('/dead-letters'), action: 'replay', id: '00000000-0000-0000-0000-000000000000' } });
    expect(withToken.status).toBe(303);

    const viewer = new DashboardClient(dash.url);
    expect((await viewer.login('victor', VIEWER_PW)).status).toBe(303);
    const token = await viewer.csrfToken('/dead-letters');
    for (const [url, form] of [
      ['/actions/deliveries', { action: 'replay', id: '00000000-0000-0000-0000-000000000000' }],
      ['/actions/deliveries', { action: 'discard', reason: 'x', id: '00000000-0000-0000-0000-000000000000' }],
      ['/actions/retry', { uid: '1.2.3' }],
    ] as const) {
      const res = await viewer.request(url, { form: { _csrf: token, ...form } });
      expect(res.status, url).toBe(403);
    }
    // Nothing the viewer tried reached the audit trail.
    expect(await db.auditEvent.count({ where: { actor: 'user:victor' } })).toBe(0);
  });

  it('limits login attempts per client and user name (429)', async () => {
    const c = new DashboardClient(dash.url);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await c.login('mallory', `guess number ${i}`)).status);
    expect(statuses.slice(0, 4)).toEqual([401, 401, 401, 401]);
    expect(statuses.slice(4)).toEqual([429, 429]);
    // Another user name from the same client is not locked out by mallory's attempts.
    expect((await new DashboardClient(dash.url).login('alice', ADMIN_PW)).status).toBe(303);
  });

  it('ends the sessions of a disabled user at once', async () => {
    const c = new DashboardClient(dash.url);
    expect((await c.login('dora', VIEWER_PW)).status).toBe(303);
    expect((await c.request('/')).status).toBe(200);
    await disableUser(db, 'dora', 'test');
    expect((await c.request('/')).status).toBe(303);
    expect((await new DashboardClient(dash.url).login('dora', VIEWER_PW)).status).toBe(401);
  });
});
