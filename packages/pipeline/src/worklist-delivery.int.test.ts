/**
 * Worklist channels through the delivery outbox against real peers started here: an MLLP
 * listener (@medplum/hl7 server) answering AA, AE (with an ERR text echoing the patient name) or
 * nothing, and a FHIR endpoint (node:http) that validates every resource with @medplum/core,
 * honours conditional creates and OAuth2 client credentials. The reports come from the real
 * pipeline (phantom study → route → placeholder model → SR) with one outbox row per
 * (report, destination, kind). Backoff is compressed to milliseconds by configuration.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listStudyAudit, replayDeliveries, syncDestinations, type DestinationConfig } from '@ldh/db';
import { generateStudy } from '@ldh/phantom';
import { messageControlId } from '@ldh/worklist';
import { settleDueStudies, startDeliveryScheduler, type DeliverySchedulerOptions } from '@ldh/pipeline';
import { drainAll, ingestBytes, openPipelineHarness, type PipelineHarness } from './testing.js';
import { startFhirPeer, startMllpPeer, type FhirPeer, type MllpPeer } from './testing-worklist-peers.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-worklist-'));
let h: PipelineHarness;
let mllp: MllpPeer;
let fhir: FhirPeer;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function options(): DeliverySchedulerOptions {
  return {
    db: h.db,
    store: h.store,
    logger: h.deps.logger,
    actor: 'writer-test',
    callingAeTitle: 'LDH',
    timeoutMs: 3_000,
    manufacturer: 'test',
    backoff: { baseMs: 20, maxMs: 40, giveUpAfterMs: 3_600_000 },
    pollMs: 50,
    leaseMs: 60_000,
    perDestinationConcurrency: 2,
  };
}

/** Runs a phantom study through the pipeline to a report; returns its deliveries by kind. */
async function reportFor(seed: number) {
  const study = generateStudy({ seed, matrix: 64 });
  for (const inst of study.instances) await ingestBytes(h.deps, inst.bytes);
  await settleDueStudies(h.deps, 15_000);
  await drainAll(h.deps, h.model);
  const row = await h.db.study.findUniqueOrThrow({ where: { studyInstanceUid: study.studyInstanceUid }, include: { reports: { include: { deliveries: true } } } });
  const deliveries = row.reports[0]!.deliveries;
  const byKind = (k: string) => deliveries.find((d) => d.kind === k)!;
  return { study, row, deliveries, hl7: byKind('hl7'), fhir: byKind('fhir'), sc: byKind('sc') };
}

async function sendDue(times = 1) {
  const s = startDeliveryScheduler(options(), { autoStart: false });
  for (let i = 0; i < times; i++) {
    await s.tick();
    await s.idle();
  }
  await s.stop();
}

/** dcmtk storescp: the viewer that takes only the Secondary Capture. */
let viewer: { dir: string; child: ChildProcess } | undefined;
async function storescp(port: number, aet: string): Promise<{ dir: string; child: ChildProcess }> {
  const dir = mkdtempSync(path.join(tmp, 'viewer-'));
  const child = spawn('storescp', ['-aet', aet, '-od', dir, String(port)], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((r) => {
      const c = net.connect(port, '127.0.0.1', () => (c.destroy(), r(true))).on('error', () => r(false));
    });
    if (up) return { dir, child };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error('storescp did not start');
}

/** Per-level Observations the FHIR Bundle carries for a study: one per level the run scored. */
async function levelsOf(studyId: string): Promise<number> {
  const run = await h.db.inferenceRun.findFirstOrThrow({ where: { studyId } });
  return Array.isArray(run.perLevel) ? run.perLevel.length : 0;
}

const delivery = (id: string) => h.db.delivery.findUniqueOrThrow({ where: { id }, include: { report: { include: { study: true } } } });

beforeAll(async () => {
  h = await openPipelineHarness({ rootDir: path.join(tmp, 'store') });
  mllp = await startMllpPeer(await freePort());
  const creds = { clientId: 'ldh', clientSecret: 's3cret' };
  fhir = await startFhirPeer(await freePort(), creds);
  const credFile = path.join(tmp, 'cc.json');
  writeFileSync(credFile, JSON.stringify({ tokenUrl: fhir.tokenUrl, ...creds }));
  const viewerPort = await freePort();
  viewer = await storescp(viewerPort, 'VIEWER');
  const destinations: DestinationConfig[] = [
    { name: 'ris', protocol: 'hl7', host: '127.0.0.1', port: mllp.port, settings: { sendingApplication: 'LDH', sendingFacility: 'RAD', receivingApplication: 'RIS', receivingFacility: 'HOSP', priorityHint: 'obx', timeoutMs: 1_500 } },
    { name: 'ehr', protocol: 'fhir', host: '127.0.0.1', port: Number(new URL(fhir.url).port), settings: { baseUrl: fhir.url, clientCredentialsFile: credFile, patientIdentifierSystem: 'urn:oid:1.2.3.999' } },
    // A viewer (storescp) that takes only the Secondary Capture summary.
    { name: 'viewer', aeTitle: 'VIEWER', host: '127.0.0.1', port: viewerPort, sends: ['sc'] },
  ];
  await syncDestinations(h.db, destinations, 'test');
});

afterAll(async () => {
  await mllp?.close();
  await fhir?.close();
  viewer?.child.kill();
  await h?.close();
});

describe('worklist deliveries (HL7 v2 over MLLP, FHIR R4) through the outbox', () => {
  it('creates one row per (report, destination, kind); AA, a valid transaction and the SC to the viewer deliver; the study ends done', async () => {
    mllp.mode = { ack: 'AA' };
    fhir.mode = 'ok';
    const r = await reportFor(1401);
    expect(r.deliveries.map((d) => d.kind).sort()).toEqual(['fhir', 'hl7', 'sc']);
    await sendDue();
    expect((await delivery(r.hl7.id)).state).toBe('delivered');
    expect((await delivery(r.fhir.id)).state).toBe('delivered');
    expect((await delivery(r.sc.id)).state).toBe('delivered');
    // storescp names received files by modality: SC = Secondary Capture; nothing else went to the viewer.
    expect(readdirSync(viewer!.dir).map((f) => f.slice(0, 2))).toEqual(['SC']);
    expect((await h.db.study.findUniqueOrThrow({ where: { id: r.row.id } })).state).toBe('done');

    const msg = mllp.received.at(-1)!;
    expect(msg.getSegment('MSH')!.getField(10).toString()).toBe(messageControlId(r.hl7.id));
    expect(msg.getSegment('OBR')!.getField(25).toString()).toBe('P');
    expect(msg.getAllSegments('OBX').some((o) => o.getField(5).toString() === r.study.studyInstanceUid)).toBe(true);
    const req = fhir.requests.at(-1)!;
    expect(req).toMatchObject({ authorized: true, errors: [] });
    // Device, the study Observation, one Observation per scored disc level, DiagnosticReport.
    const levels = await levelsOf(r.row.id);
    expect(levels).toBeGreaterThan(0);
    expect(fhir.store.size).toBe(3 + levels);
    const audit = await listStudyAudit(h.db, r.study.studyInstanceUid);
    expect(audit.filter((a) => a.action === 'delivery.delivered').map((a) => (a.details as { kind: string }).kind).sort()).toEqual(['fhir', 'hl7', 'sc']);
  });

  it('AE is a permanent failure with the peer text (patient values scrubbed); a replay sends the same MSH-10; FHIR 422 is dead with the OperationOutcome text and its replay creates nothing twice', async () => {
    const r = await reportFor(1402);
    mllp.mode = { ack: 'AE', text: 'patient PHANTOM^CASE0001 not found in order list' };
    fhir.mode = '422';
    await sendDue();
    const hl7 = await delivery(r.hl7.id);
    expect(hl7.state).toBe('dead');
    expect(hl7.lastError).toMatch(/^HL7 AE: .*ERR-3 207 Application internal error/);
    expect(hl7.lastError).toContain('[redacted]');
    expect(hl7.lastError).not.toMatch(/PHANTOM|CASE0001/);
    const fh = await delivery(r.fhir.id);
    expect(fh.state).toBe('dead');
    expect(fh.lastStatus).toBe(422);
    expect(fh.lastError).toMatch(/^HTTP 422: error invalid business rule/);
    expect(fh.lastError).not.toMatch(/PH0\d+/);
    expect((await h.db.study.findUniqueOrThrow({ where: { id: r.row.id } })).state).toBe('delivery_failed');
    const firstControlId = mllp.received.at(-1)!.getSegment('MSH')!.getField(10).toString();
    const storedBefore = fhir.store.size;

    mllp.mode = { ack: 'AA' };
    fhir.mode = 'ok';
    const replay = await replayDeliveries(h.db, { ids: [r.hl7.id, r.fhir.id] }, 'operator');
    expect(replay.replayed.map((x) => x.kind).sort()).toEqual(['fhir', 'hl7']);
    await sendDue();
    expect((await delivery(r.hl7.id)).state).toBe('delivered');
    expect((await delivery(r.fhir.id)).state).toBe('delivered');
    expect(mllp.received.at(-1)!.getSegment('MSH')!.getField(10).toString()).toBe(firstControlId);
    expect(mllp.received.filter((m) => m.getSegment('MSH')!.getField(10).toString() === firstControlId)).toHaveLength(2);
    // Same Device as the first study (same model): only the Observations and the DiagnosticReport are new.
    expect(fhir.store.size).toBe(storedBefore + 2 + (await levelsOf(r.row.id)));
    expect((await h.db.study.findUniqueOrThrow({ where: { id: r.row.id } })).state).toBe('done');
  });

  it('no ACK within the timeout is transient (retried with backoff, same control id); a lost FHIR response is retried and the conditional create makes no duplicate', async () => {
    const r = await reportFor(1403);
    // As if written with LDH_SC_SUMMARY=0: the report has no SC, so the viewer's row is not applicable.
    await h.db.report.update({ where: { id: r.row.reports[0]!.id }, data: { scStorageKey: null } });
    mllp.mode = { ack: 'silent' };
    fhir.mode = 'store-then-500';
    const storedBefore = fhir.store.size;
    await sendDue();
    const hl7 = await delivery(r.hl7.id);
    expect(hl7.state).toBe('failed');
    expect(hl7.lastError).toBe('no ACK within 1500 ms');
    expect(hl7.nextAttemptAt.getTime()).toBeGreaterThan(hl7.firstAttemptAt!.getTime());
    const sc = await delivery(r.sc.id);
    expect(sc.state).toBe('not_applicable');
    expect(sc.lastError).toMatch(/no Secondary Capture/);
    const fh = await delivery(r.fhir.id);
    expect(fh.state).toBe('failed');
    expect(fh.lastStatus).toBe(500);
    expect(fhir.store.size).toBe(storedBefore + 2 + (await levelsOf(r.row.id)));
    const sentIfNoneExist = fhir.requests.at(-1)!.ifNoneExist;

    mllp.mode = { ack: 'AA' };
    fhir.mode = 'ok';
    // The backoff is milliseconds here: wait until both rows are due, then send.
    for (let i = 0; i < 100; i++) {
      const due = await h.db.delivery.count({ where: { id: { in: [r.hl7.id, r.fhir.id] }, state: 'failed', nextAttemptAt: { lte: new Date() } } });
      if (due === 2) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    await sendDue();
    const after = await delivery(r.hl7.id);
    expect(after.state).toBe('delivered');
    expect(after.attempts).toBe(2);
    const ids = mllp.received.slice(-2).map((m) => m.getSegment('MSH')!.getField(10).toString());
    expect(ids).toEqual([messageControlId(r.hl7.id), messageControlId(r.hl7.id)]);
    expect((await delivery(r.fhir.id)).state).toBe('delivered');
    expect(fhir.requests.at(-1)!.ifNoneExist).toEqual(sentIfNoneExist);
    expect(fhir.store.size).toBe(storedBefore + 2 + (await levelsOf(r.row.id)));
    expect(fhir.requests.every((q) => q.errors.length === 0)).toBe(true);
  });
});
