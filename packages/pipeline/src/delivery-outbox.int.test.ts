/**
 * The delivery outbox against real peers (dcmtk storescp) and real Postgres: transient failures
 * back off with nextAttemptAt advancing and deliver once the peer is up; a permanent rejection is
 * dead at once with its reason; give-up → dead → delivery_failed; replay → delivered → done; one
 * dead destination never delays another; a removed destination is disabled; a crashed sender's
 * claim is reclaimed. Backoff is compressed to milliseconds by configuration.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@ldh/config';
import { claimDueDeliveries, createDb, createReportWithOutbox, createScratchDatabase, listStudyAudit, recordDeliveryOutcome, replayDeliveries, syncDestinations, type Db } from '@ldh/db';
import { generateStudy } from '@ldh/phantom';
import { createInstanceStore, type InstanceStore } from '@ldh/storage';
import { startDeliveryScheduler, storeBytes, type DeliverySchedulerOptions } from '@ldh/pipeline';

const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
let store: InstanceStore;
let srKey: string;
const srUid = generateStudy({ seed: 5, matrix: 64 }).instances[0]!;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-outbox-'));
const children: ChildProcess[] = [];
const servers: net.Server[] = [];
const logger = createLogger('outbox-test', { level: 'silent' });

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** dcmtk storescp on `port` (extra args e.g. --refuse); resolves once it accepts connections. */
async function storescp(port: number, aet: string, extra: string[] = []): Promise<{ dir: string; child: ChildProcess }> {
  const dir = mkdtempSync(path.join(tmp, 'scp-'));
  const child = spawn('storescp', ['-aet', aet, '-od', dir, ...extra, String(port)], { stdio: 'ignore' });
  children.push(child);
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true))).on('error', () => r(false));
    });
    if (up) return { dir, child };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('storescp did not start');
}

function options(over: Partial<DeliverySchedulerOptions> = {}): DeliverySchedulerOptions {
  return {
    db,
    store,
    logger,
    actor: 'writer-test',
    callingAeTitle: 'LDH',
    timeoutMs: 3_000,
    backoff: { baseMs: 40, maxMs: 160, giveUpAfterMs: 3_600_000 },
    pollMs: 50,
    leaseMs: 60_000,
    perDestinationConcurrency: 2,
    ...over,
  };
}

let seq = 0;
/** A study in `delivering` with one report whose outbox has a row per enabled destination. */
async function reportFor(): Promise<{ studyId: string; studyInstanceUid: string; deliveries: Array<{ id: string; destinationId: string }> }> {
  seq++;
  const uid = `1.2.826.0.1.3680043.10.999.${process.pid}.${seq}`;
  const study = await db.study.create({ data: { studyInstanceUid: uid, state: 'delivering', firstInstanceAt: new Date(), lastInstanceAt: new Date() } });
  const mv = await db.modelVersion.upsert({ where: { name_version_sha256: { name: 't', version: '1', sha256: 'x' } }, create: { name: 't', version: '1', sha256: 'x', card: {} }, update: {} });
  const run = await db.inferenceRun.create({ data: { studyId: study.id, modelVersionId: mv.id, idempotencyKey: `k-${uid}`, inputHash: 'h', state: 'succeeded' } });
  const report = await createReportWithOutbox(db, {
    studyId: study.id,
    studyInstanceUid: uid,
    inferenceRunId: run.id,
    srSopInstanceUid: `${uid}.1`,
    srSeriesInstanceUid: `${uid}.2`,
    srStorageKey: srKey,
    srSha256: 'sha',
    actor: 'test',
  });
  return { studyId: study.id, studyInstanceUid: uid, deliveries: report.deliveries };
}

const row = (id: string) => db.delivery.findUniqueOrThrow({ where: { id } });
const studyOf = (id: string) => db.study.findUniqueOrThrow({ where: { id } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function onlyDestinations(...names: Array<{ name: string; port: number; aeTitle?: string }>) {
  await syncDestinations(db, names.map((n) => ({ name: n.name, aeTitle: n.aeTitle ?? 'PEER', host: '127.0.0.1', port: n.port })), 'test');
  return Promise.all(names.map((n) => db.destination.findUniqueOrThrow({ where: { name: n.name } })));
}

beforeAll(async () => {
  scratch = await createScratchDatabase(adminUrl);
  db = createDb(scratch.url);
  store = await createInstanceStore({ rootDir: path.join(tmp, 'store'), minFreeBytes: 0 });
  srKey = (await storeBytes(store, srUid.bytes)).storageKey;
}, 60_000);

afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGKILL');
  }
  for (const s of servers.splice(0)) s.close();
});

afterAll(async () => {
  await db?.$disconnect();
  await scratch?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('delivery outbox', () => {
  it('retries a PACS that is down with growing nextAttemptAt, then delivers once it is up; the study ends done', async () => {
    const port = await freePort();
    await onlyDestinations({ name: 'down-then-up', port });
    const { studyId, deliveries } = await reportFor();
    const id = deliveries[0]!.id;
    const attempts: Array<{ destination: string; outcome: string; reason?: string }> = [];
    const s = startDeliveryScheduler(options({ onAttempt: (a) => attempts.push(a) }), { autoStart: false });
    const seen: Date[] = [];
    for (let i = 0; i < 3; i++) {
      await sleep(Math.max(0, (await row(id)).nextAttemptAt.getTime() - Date.now()) + 5);
      expect(await s.tick()).toBe(1);
      await s.idle();
      const d = await row(id);
      expect(d.state).toBe('failed');
      expect(d.attempts).toBe(i + 1);
      expect(d.lastError).toMatch(/ECONNREFUSED.*\(transient\)/);
      seen.push(d.nextAttemptAt);
    }
    expect(seen[1]!.getTime()).toBeGreaterThan(seen[0]!.getTime());
    expect(seen[2]!.getTime()).toBeGreaterThan(seen[1]!.getTime());
    expect((await studyOf(studyId)).state).toBe('delivering');

    const scp = await storescp(port, 'PEER');
    await sleep(Math.max(0, (await row(id)).nextAttemptAt.getTime() - Date.now()) + 5);
    expect(await s.tick()).toBe(1);
    await s.idle();
    const d = await row(id);
    expect(d.state).toBe('delivered');
    expect(d.attempts).toBe(4);
    expect(readdirSync(scp.dir).some((f) => f.includes(srUid.sopInstanceUid))).toBe(true);
    expect((await studyOf(studyId)).state).toBe('done');
    // What the writer counts in ldh_delivery_attempts_total / ldh_delivery_failures_total.
    expect(attempts).toEqual([
      ...Array.from({ length: 3 }, () => ({ destination: 'down-then-up', outcome: 'failed', reason: 'network' })),
      { destination: 'down-then-up', outcome: 'delivered' },
    ]);
    await s.stop();
  });

  it('a permanent association rejection is dead at once with the reason in words; the study ends delivery_failed', async () => {
    const port = await freePort();
    await storescp(port, 'PEER', ['--refuse']);
    await onlyDestinations({ name: 'refuses', port });
    const { studyId, studyInstanceUid, deliveries } = await reportFor();
    const attempts: Array<{ destination: string; outcome: string; reason?: string }> = [];
    const s = startDeliveryScheduler(options({ onAttempt: (a) => attempts.push(a) }), { autoStart: false });
    await s.tick();
    await s.idle();
    expect(attempts).toEqual([{ destination: 'refuses', outcome: 'dead', reason: 'rejected' }]);
    const d = await row(deliveries[0]!.id);
    expect(d.state).toBe('dead');
    expect(d.attempts).toBe(1);
    expect(d.lastError).toMatch(/rejected-permanent by service user: no reason given \(result 1, source 1, reason 1\) \(permanent\)/);
    const st = await studyOf(studyId);
    expect(st.state).toBe('delivery_failed');
    expect(st.stateReason).toMatch(/delivery to refuses is dead/);
    expect((await listStudyAudit(db, studyInstanceUid)).map((a) => a.action)).toEqual(expect.arrayContaining(['delivery.dead', 'study.delivery_failed']));
    await s.stop();
  });

  it('gives up after the configured time (dead, delivery_failed); a replay by an operator delivers it and the study ends done', async () => {
    const port = await freePort();
    const [dest] = await onlyDestinations({ name: 'long-outage', port });
    const { studyId, studyInstanceUid, deliveries } = await reportFor();
    const id = deliveries[0]!.id;
    const s = startDeliveryScheduler(options({ backoff: { baseMs: 20, maxMs: 60, giveUpAfterMs: 400 } }), { autoStart: false });
    for (let i = 0; i < 200 && (await row(id)).state !== 'dead'; i++) {
      await s.tick();
      await s.idle();
      await sleep(20);
    }
    const dead = await row(id);
    expect(dead.state).toBe('dead');
    expect(dead.attempts).toBeGreaterThan(1);
    expect(dead.lastError).toMatch(/^gave up after 0 s and \d+ attempts: .*ECONNREFUSED/);
    expect((await studyOf(studyId)).state).toBe('delivery_failed');

    const scp = await storescp(port, 'PEER');
    const r = await replayDeliveries(db, { allDead: true, destination: dest!.name }, 'alice');
    expect(r.replayed.map((x) => x.id)).toEqual([id]);
    const replayed = await row(id);
    expect([replayed.state, replayed.attempts, replayed.firstAttemptAt]).toEqual(['pending', 0, null]);
    expect((await studyOf(studyId)).state).toBe('delivering');
    await s.tick();
    await s.idle();
    expect((await row(id)).state).toBe('delivered');
    expect((await studyOf(studyId)).state).toBe('done');
    expect(readdirSync(scp.dir).length).toBe(1);
    const audit = await listStudyAudit(db, studyInstanceUid);
    const replay = audit.find((a) => a.action === 'delivery.replayed');
    expect(replay?.actor).toBe('alice');
    expect(replay?.details).toMatchObject({ destination: 'long-outage', previousAttempts: dead.attempts });
    expect(audit.filter((a) => a.action === 'study.delivering').at(-1)?.actor).toBe('alice');
    // A delivered row is not replayed again.
    expect((await replayDeliveries(db, { ids: [id] }, 'alice')).skipped).toEqual([{ id, reason: 'state is delivered, not dead' }]);
    await s.stop();
  });

  it('a destination that hangs does not delay another: the other is delivered while the first is still sending', async () => {
    const sockets: net.Socket[] = [];
    const hang = net.createServer((sock) => void sockets.push(sock)).listen(0, '127.0.0.1');
    servers.push(hang);
    await new Promise((r) => hang.once('listening', r));
    const okPort = await freePort();
    const scp = await storescp(okPort, 'PEER');
    await onlyDestinations({ name: 'hangs', port: (hang.address() as net.AddressInfo).port }, { name: 'healthy', port: okPort });
    const reports = [await reportFor(), await reportFor(), await reportFor()];
    const s = startDeliveryScheduler(options({ timeoutMs: 20_000, perDestinationConcurrency: 1 }), { autoStart: true });
    const healthy = await db.destination.findUniqueOrThrow({ where: { name: 'healthy' } });
    const healthyIds = reports.map((r) => r.deliveries.find((d) => d.destinationId === healthy.id)!.id);
    for (let i = 0; i < 200; i++) {
      const states = await db.delivery.findMany({ where: { id: { in: healthyIds } } });
      if (states.every((d) => d.state === 'delivered')) break;
      await sleep(50);
    }
    const rows = await db.delivery.findMany({ where: { id: { in: reports.flatMap((r) => r.deliveries.map((d) => d.id)) } }, include: { destination: true } });
    expect(rows.filter((d) => d.destination.name === 'healthy').map((d) => d.state)).toEqual(['delivered', 'delivered', 'delivered']);
    // The hanging PACS holds one claim (its concurrency), the other rows wait their turn.
    expect(rows.filter((d) => d.destination.name === 'hangs').map((d) => d.state).sort()).toEqual(['pending', 'pending', 'sending']);
    expect(readdirSync(scp.dir).length).toBe(1);
    for (const sock of sockets) sock.destroy();
    await s.stop();
  }, 60_000);

  it('a destination removed from the configuration is disabled: audited, pending rows kept and not sent, no new rows', async () => {
    const port = await freePort();
    const scp = await storescp(port, 'PEER');
    await onlyDestinations({ name: 'old', port }, { name: 'kept', port });
    const first = await reportFor();
    const old = await db.destination.findUniqueOrThrow({ where: { name: 'old' } });
    const r = await syncDestinations(db, [{ name: 'kept', aeTitle: 'PEER', host: '127.0.0.1', port }], 'writer-start');
    expect(r.disabled).toEqual(['old']);
    expect((await db.destination.findUniqueOrThrow({ where: { name: 'old' } })).enabled).toBe(false);
    const audit = await db.auditEvent.findMany({ where: { entityType: 'destination', entityId: old.id } });
    expect(audit.map((a) => [a.action, a.actor, a.details])).toEqual([['destination.disabled', 'writer-start', { name: 'old', reason: 'not in LDH_DESTINATIONS / LDH_HL7_DESTINATIONS / LDH_FHIR_DESTINATIONS', pendingKept: 1 }]]);
    const second = await reportFor();
    expect(second.deliveries.map((d) => d.destinationId)).not.toContain(old.id);
    const s = startDeliveryScheduler(options(), { autoStart: false });
    await s.tick();
    await s.idle();
    const oldRow = await row(first.deliveries.find((d) => d.destinationId === old.id)!.id);
    expect([oldRow.state, oldRow.attempts]).toEqual(['pending', 0]);
    // The study waits on enabled destinations only: its delivery to "kept" makes it done.
    expect((await studyOf(first.studyId)).state).toBe('done');
    expect(readdirSync(scp.dir).length).toBe(1);
    await s.stop();
  });

  it('sends over TLS to a TLS-only storescp that requires a client certificate, verifying its certificate against the configured CA', async () => {
    const certs = (name: string) => {
      const key = path.join(tmp, `${name}-key.pem`);
      const cert = path.join(tmp, `${name}-cert.pem`);
      const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return { key, cert };
    };
    const server = certs('server');
    const stranger = certs('stranger');
    const client = certs('client');
    const port = await freePort();
    // dcmtk storescp requires the peer's certificate by default; it trusts the client's.
    const scp = await storescp(port, 'PEER', ['+tls', server.key, server.cert, '+cf', client.cert]);
    const configure = (ca: string | null) =>
      syncDestinations(db, [{ name: 'tls', aeTitle: 'PEER', host: '127.0.0.1', port, tls: true, tlsCaPath: ca, tlsCertPath: client.cert, tlsKeyPath: client.key }], 'test');
    const s = startDeliveryScheduler(options(), { autoStart: false });
    // The wrong CA: the certificate is refused, the row retries (the operator can fix the CA).
    await configure(stranger.cert);
    const { studyId, deliveries } = await reportFor();
    const id = deliveries[0]!.id;
    await s.tick();
    await s.idle();
    expect((await row(id)).state).toBe('failed');
    expect((await row(id)).lastError).toMatch(/certificate/i);
    expect(readdirSync(scp.dir)).toEqual([]);
    await configure(server.cert);
    await sleep(Math.max(0, (await row(id)).nextAttemptAt.getTime() - Date.now()) + 5);
    await s.tick();
    await s.idle();
    expect((await row(id)).state, (await row(id)).lastError ?? '').toBe('delivered');
    expect((await studyOf(studyId)).state).toBe('done');
    expect(readdirSync(scp.dir).some((f) => f.includes(srUid.sopInstanceUid))).toBe(true);
    await s.stop();
  });

  it('a sending claim left by a crashed sender is reclaimed after the lease and delivered; the dead claimant cannot record', async () => {
    const port = await freePort();
    await storescp(port, 'PEER');
    const [dest] = await onlyDestinations({ name: 'reclaim', port });
    const { studyId, studyInstanceUid, deliveries } = await reportFor();
    const id = deliveries[0]!.id;
    expect(await claimDueDeliveries(db, { destinationId: dest!.id, limit: 5, owner: 'crashed-writer', leaseMs: 60_000, actor: 'crashed-writer' })).toEqual([{ id, reclaimed: false }]);
    const s = startDeliveryScheduler(options({ leaseMs: 300 }), { autoStart: false });
    expect(await s.tick()).toBe(0);
    expect((await row(id)).claimedBy).toBe('crashed-writer');
    await sleep(400);
    expect(await s.tick()).toBe(1);
    await s.idle();
    expect((await row(id)).state).toBe('delivered');
    expect((await studyOf(studyId)).state).toBe('done');
    expect(await recordDeliveryOutcome(db, { deliveryId: id, owner: 'crashed-writer', actor: 'crashed-writer', durationMs: 1, outcome: 'dead', error: 'late' })).toBe(false);
    expect((await row(id)).state).toBe('delivered');
    expect((await listStudyAudit(db, studyInstanceUid)).find((a) => a.action === 'delivery.reclaimed')?.details).toMatchObject({ previousClaimant: 'crashed-writer' });
    await s.stop();
  });
});
