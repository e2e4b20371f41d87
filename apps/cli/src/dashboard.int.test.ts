/**
 * The dashboard's acceptance test in a real browser: playwright-core drives Debian's Chromium
 * against the scp, worker, writer and dashboard roles running in this process (scratch database,
 * private queue prefix), with a real Orthanc as the destination and dcmtk as sender and peer.
 *
 * Admin: signs in; a study sent with storescu appears on the open studies page (server-sent
 * events, no reload) and reaches done; its timeline shows. With a second destination on a
 * closed port, the next study's delivery there goes dead and is listed as a dead letter; once a
 * storescp listens on that port, the admin replays it from the page and it is delivered.
 * Viewer: sees no patient name and gets 403 on replay. LDH_SCREENSHOTS=1 writes each view to
 * docs/screenshots/*.png (1280x800).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@ldh/config';
import { loadDashboardEnv, startDashboard, type RunningDashboard } from '@ldh/dashboard';
import { createDb, createScratchDatabase, type Db } from '@ldh/db';
import { readPart10, str } from '@ldh/dicom';
import { addUser } from '@ldh/ops';
import { writePhantomDataset } from '@ldh/phantom';
import { loadScpEnv, startScp } from '@ldh/scp';
import { loadWorkerEnv, startWorker } from '@ldh/worker';
import { loadWriterEnv, startWriter } from '@ldh/writer';
import { freePort, startOrthanc, type DestinationService } from './services.js';

const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.LDH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const screenshotsDir = process.env.LDH_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url)) : null;
const ADMIN_PW = 'admin password for the browser test';
const VIEWER_PW = 'viewer password for the browser test';

function which(bin: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function dcmFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? dcmFiles(p) : p.endsWith('.dcm') ? [p] : [];
  });
}

async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-dash-e2e-'));
const logger = createLogger('dash-e2e', { level: 'warn' });
let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
let orthanc: DestinationService;
let browser: Browser;
let dash: RunningDashboard;
let deadPort = 0;
let peer: ChildProcess | null = null;
const stops: Array<() => Promise<void>> = [];
let baseEnv: Record<string, string> = {};
let stopWriter: (() => Promise<void>) | null = null;

async function shot(page: Page, name: string): Promise<void> {
  if (!screenshotsDir) return;
  mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotsDir, `${name}.png`) });
}

async function login(page: Page, name: string, password: string): Promise<void> {
  await page.goto(`${dash.url}/login`);
  await page.fill('#name', name);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(`${dash.url}/`), page.click('button[type=submit]')]);
}

async function restartWriter(destinations: string): Promise<void> {
  if (stopWriter) await stopWriter();
  stopWriter = (await startWriter(loadWriterEnv({ ...baseEnv, LDH_DESTINATIONS: destinations }), { logger })).stop;
}

async function sendStudy(seed: number): Promise<{ uid: string; familyName: string }> {
  const data = await writePhantomDataset({ outDir: path.join(tmp, `phantom-${seed}`), count: 1, seed });
  const study = data.studies[0]!;
  const { dataset } = readPart10(readFileSync(dcmFiles(study.dir)[0]!), { headerOnly: true });
  const familyName = (str(dataset, 'PatientName') ?? '').split('^')[0]!;
  // Asynchronously: the SCP answering it runs in this process's event loop.
  const child = spawn('storescu', ['-aet', 'STORESCU', '-aec', 'LDH_TRIAGE', '+sd', '+r', '127.0.0.1', baseEnv.LDH_SCP_PORT!, study.dir], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`storescu failed (${code}): ${stderr}`);
  return { uid: study.studyInstanceUid, familyName };
}

beforeAll(async () => {
  const chromiumPath = which('chromium');
  if (!chromiumPath) throw new Error('chromium is not installed (apt-get install chromium)');
  if (!which('storescp')) throw new Error('dcmtk is not installed (apt-get install dcmtk)');
  scratch = await createScratchDatabase(adminUrl);
  db = createDb(scratch.url);
  const o = await startOrthanc();
  if (!o) throw new Error('Orthanc is not installed (apt-get install orthanc)');
  orthanc = o;
  deadPort = await freePort();
  baseEnv = {
    DATABASE_URL: scratch.url,
    REDIS_URL: redisUrl,
    LDH_QUEUE_PREFIX: `ldh-dash-e2e-${process.pid}-${Date.now()}`,
    LDH_STORAGE_DIR: path.join(tmp, 'storage'),
    LDH_SCP_HOST: '127.0.0.1',
    LDH_SCP_PORT: String(await freePort()),
    LDH_ALLOWED_PEERS: 'STORESCU@127.0.0.1',
    LDH_QUIET_PERIOD_MS: '1500',
    LDH_MIN_FREE_BYTES: String(64 * 1024 ** 2),
    // Give up on a destination quickly, so a dead letter appears within seconds.
    LDH_DELIVERY_TIMEOUT_MS: '2000',
    LDH_DELIVERY_LEASE_MS: '8000',
    LDH_DELIVERY_BACKOFF_BASE_MS: '200',
    LDH_DELIVERY_BACKOFF_MAX_MS: '500',
    LDH_DELIVERY_GIVE_UP_AFTER: '2s',
    LDH_DELIVERY_POLL_MS: '200',
    LDH_DASHBOARD_PORT: '0',
    LDH_HTTP_PORT: '0', // each role started alone serves its own /metrics: a free port each
    LDH_DASHBOARD_SECRET: 'browser test session key, long enough 0123456789',
    LDH_DASHBOARD_SECURE_COOKIE: 'false',
    LDH_DASHBOARD_LIVE_POLL_MS: '500',
  };
  await addUser(db, { name: 'admin', role: 'admin', password: ADMIN_PW }, 'test');
  await addUser(db, { name: 'viewer', role: 'viewer', password: VIEWER_PW }, 'test');
  await restartWriter(`orthanc=ORTHANC@127.0.0.1:${orthanc.port}`);
  stops.push((await startWorker(loadWorkerEnv(baseEnv), { logger })).stop);
  stops.push((await startScp(loadScpEnv(baseEnv), { logger })).stop);
  dash = await startDashboard(loadDashboardEnv(baseEnv), { logger });
  stops.push(dash.stop);
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
});

afterAll(async () => {
  await browser?.close();
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await stopWriter?.().catch(() => undefined);
  if (peer && peer.exitCode === null) {
    peer.kill('SIGTERM');
    await new Promise((r) => peer!.once('exit', r));
  }
  await orthanc?.stop();
  await db?.$disconnect();
  await scratch?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('dashboard in Chromium', () => {
  let admin: Page;
  let first = { uid: '', familyName: '' };
  let second = { uid: '', familyName: '' };

  it('shows a study sent with storescu live, without a reload, until it is done; then its timeline', async () => {
    admin = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await admin.goto(`${dash.url}/`);
    expect(admin.url()).toContain('/login');
    await shot(admin, 'login');
    await login(admin, 'admin', ADMIN_PW);
    await admin.goto(`${dash.url}/studies`);
    await expect.poll(() => admin.textContent('main')).toContain('No studies match');
    // Marks this document: a reload would lose it.
    await admin.evaluate('window.__noReload = true');

    first = await sendStudy(7101);
    const row = admin.locator(`tr[data-uid="${first.uid}"]`);
    await row.waitFor({ timeout: 60_000 });
    await expect.poll(() => row.locator('.badge').first().textContent(), { timeout: 120_000, interval: 500 }).toBe('done');
    expect(await admin.evaluate('window.__noReload')).toBe(true);
    await shot(admin, 'studies');

    await row.locator('a').first().click();
    await admin.waitForURL(/\/studies\/.+/);
    const timeline = admin.locator('section[aria-labelledby="h-timeline"] tbody tr');
    const states = await timeline.locator('td:first-child .badge').allTextContents();
    expect(states).toEqual(['receiving', 'settled', 'routed', 'inferring', 'reporting', 'delivering', 'done']);
    // Admins see the patient's name (read from the stored header on demand).
    expect(await admin.textContent('main')).toContain(first.familyName);
    await shot(admin, 'study');
  });

  it('lists a delivery to a dead destination as a dead letter, and delivers it after a replay from the page', async () => {
    await restartWriter(`orthanc=ORTHANC@127.0.0.1:${orthanc.port},deadpacs=DEADPACS@127.0.0.1:${deadPort}`);
    second = await sendStudy(7102);
    await until('the dead delivery', async () => (await db.delivery.findFirst({ where: { state: 'dead', destination: { name: 'deadpacs' } } })) ?? null, 120_000);
    await until('the study to be delivery_failed', async () => (await db.study.findUnique({ where: { studyInstanceUid: second.uid } }))?.state === 'delivery_failed');

    await admin.goto(`${dash.url}/`);
    await expect.poll(() => admin.textContent('section[aria-labelledby="h-alerts"]')).toContain('1 dead delivery');
    await shot(admin, 'overview');
    await admin.goto(`${dash.url}/destinations`);
    await expect.poll(() => admin.textContent('main')).toContain('down');
    await shot(admin, 'destinations');

    await admin.goto(`${dash.url}/dead-letters`);
    const deadRow = admin.locator('tr[data-delivery]');
    await expect.poll(() => deadRow.count()).toBe(1);
    expect(await deadRow.textContent()).toContain('deadpacs');
    await shot(admin, 'dead-letters');

    // The destination comes back: a storescp on its port.
    peer = spawn('storescp', ['-aet', 'DEADPACS', '+xa', '-od', mkdtempSync(path.join(tmp, 'peer-')), String(deadPort)], { stdio: 'ignore', env: { ...process.env, TCP_NODELAY: '1' } });
    await until('storescp to listen', async () => spawnSync('echoscu', ['-aec', 'DEADPACS', '127.0.0.1', String(deadPort)], { timeout: 5_000 }).status === 0, 20_000);

    await deadRow.locator('input[type=checkbox]').check();
    await Promise.all([admin.waitForURL(`${dash.url}/dead-letters`), admin.click('button[value=replay]')]);
    expect(await admin.textContent('.flash')).toContain('Replayed 1');
    await until('the replayed delivery to be delivered', async () => (await db.delivery.findFirst({ where: { destination: { name: 'deadpacs' }, state: 'delivered' } })) ?? null, 60_000);
    await until('the study to be done', async () => (await db.study.findUnique({ where: { studyInstanceUid: second.uid } }))?.state === 'done');

    await admin.goto(`${dash.url}/studies/${encodeURIComponent(second.uid)}`);
    const deliveries = admin.locator('section[aria-labelledby="h-deliveries"] tbody tr');
    await expect.poll(() => deliveries.allTextContents()).toEqual([expect.stringContaining('delivered'), expect.stringContaining('delivered')]);
    const audit = await db.auditEvent.findMany({ where: { actor: 'user:admin', action: 'delivery.replayed' } });
    expect(audit.length).toBeGreaterThanOrEqual(1);

    await admin.goto(`${dash.url}/audit?actor=user%3Aadmin`);
    await shot(admin, 'audit');
    await admin.goto(`${dash.url}/model`);
    expect(await admin.textContent('main')).toContain('Trained on synthetic phantoms only');
    await shot(admin, 'model');
  });

  it('shows a viewer no patient names, refuses its replay with 403, and fits a narrow screen', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const viewer = await ctx.newPage();
    await login(viewer, 'viewer', VIEWER_PW);
    await viewer.goto(`${dash.url}/studies/${encodeURIComponent(second.uid)}`);
    const body = (await viewer.content()) + (await (await viewer.request.get(`${dash.url}/studies`)).text());
    expect(second.familyName.length).toBeGreaterThan(2);
    expect(body).not.toContain(second.familyName);
    expect(body).not.toContain(first.familyName);
    expect(await viewer.locator('button[value=replay]').count()).toBe(0);
    await shot(viewer, 'study-viewer');

    const deliveryId = (await db.delivery.findFirstOrThrow({ where: { destination: { name: 'deadpacs' } } })).id;
    // A valid CSRF token from the viewer's own page: the refusal is the role's, not the token's.
    const token = await viewer.getAttribute('meta[name="csrf-token"]', 'content');
    expect(token).toBeTruthy();
    const status = await viewer.evaluate(async ({ id, token }) => {
      const r = await fetch('/actions/deliveries', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': token! }, body: new URLSearchParams({ action: 'replay', id }).toString() });
      return r.status;
    }, { id: deliveryId, token });
    expect(status).toBe(403);
    expect(await db.auditEvent.count({ where: { actor: 'user:viewer' } })).toBe(0);

    // Narrow screen: nothing wider than the viewport (wide tables scroll inside their own box).
    // Keyboard: the first Tab reaches the skip link.
    await viewer.setViewportSize({ width: 390, height: 844 });
    for (const p of ['/', '/studies', `/studies/${encodeURIComponent(second.uid)}`, '/dead-letters', '/audit']) {
      await viewer.goto(`${dash.url}${p}`);
      expect(await viewer.evaluate('document.documentElement.scrollWidth'), p).toBeLessThanOrEqual(390);
    }
    await viewer.keyboard.press('Tab');
    expect(await viewer.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Skip to content');
    await ctx.close();
  });
});

