import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@ldh/config';
import { createInstanceStore, type InstanceStore } from '@ldh/storage';
import { createStoreScp, type IngestSink, type StoreScp, type StoreScpOptions } from './store-scp.js';
import { abortBytes, associateRq, cEchoCommand, pDataTf, pdu, RawPeer } from './test-raw-pdus.js';

const run = promisify(execFile);
const VERIFICATION = '1.2.840.10008.1.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const MAX_PDU = 16 * 1024;

const sink: IngestSink = { commit: async () => ({ outcome: 'stored' }) };

async function echoscu(port: number): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('echoscu', ['-aet', 'ECHOSCU', '-aec', 'LDH_TEST', '127.0.0.1', String(port)], { timeout: 30_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Each case: associate first or not, then send `bad`; the answer must be exactly A-ABORT(2, reason) and then the close. */
const cases: Array<{ name: string; associate: boolean; bad: () => Buffer; reason: number }> = [
  { name: 'A-RELEASE-RQ before any association (Sta2, AA-1)', associate: false, bad: () => pdu(0x05, Buffer.alloc(4)), reason: 2 },
  { name: 'P-DATA-TF before any association (Sta2, AA-1)', associate: false, bad: () => pDataTf(1, true, true, cEchoCommand()), reason: 2 },
  { name: 'A-ASSOCIATE-AC sent to us before any association (Sta2, AA-1)', associate: false, bad: () => pdu(0x02, Buffer.alloc(68)), reason: 2 },
  { name: 'A-RELEASE-RP before any association (Sta2, AA-1)', associate: false, bad: () => pdu(0x06, Buffer.alloc(4)), reason: 2 },
  { name: 'unknown PDU type 0x09 before association (AA-8, unrecognized PDU)', associate: false, bad: () => pdu(0x09, Buffer.alloc(8)), reason: 1 },
  { name: 'A-ASSOCIATE-RQ longer than 64 KiB (invalid PDU parameter)', associate: false, bad: () => pdu(0x01, Buffer.alloc(64 * 1024 + 1)), reason: 6 },
  { name: 'a second A-ASSOCIATE-RQ inside an association (Sta6, AA-8)', associate: true, bad: () => associateRq('LDH_TEST', 'RAWSCU', VERIFICATION, IMPLICIT_LE), reason: 2 },
  { name: 'A-RELEASE-RP inside an association (Sta6, AA-8)', associate: true, bad: () => pdu(0x06, Buffer.alloc(4)), reason: 2 },
  { name: 'unknown PDU type 0x7f inside an association (AA-8, unrecognized PDU)', associate: true, bad: () => pdu(0x7f, Buffer.alloc(2)), reason: 1 },
  { name: 'a PDV on a presentation context that was never proposed', associate: true, bad: () => pDataTf(99, true, true, cEchoCommand()), reason: 6 },
  { name: 'a garbage command set', associate: true, bad: () => pDataTf(1, true, true, Buffer.from('this is not a DIMSE command set')), reason: 6 },
  { name: 'a dataset PDV where a command set is due', associate: true, bad: () => pDataTf(1, false, true, Buffer.alloc(64)), reason: 2 },
  { name: 'a malformed PDV (item length past its PDU)', associate: true, bad: () => pdu(0x04, Buffer.from([0, 0, 0, 0x40, 1, 3, 0, 0])), reason: 6 },
  { name: 'a P-DATA-TF PDU over our maximum PDU length', associate: true, bad: () => pdu(0x04, Buffer.alloc(MAX_PDU + 1)).subarray(0, 6 + 100), reason: 6 },
];

describe('DICOM upper-layer state machine (PS3.8 9.2) against raw peers', () => {
  let dir: string;
  let store: InstanceStore;
  let scp: StoreScp;
  let port: number;
  const logger = createLogger('scp-ul-test', { level: 'silent' });

  async function start(overrides: Partial<StoreScpOptions> = {}): Promise<{ scp: StoreScp; port: number }> {
    const s = createStoreScp({ aeTitle: 'LDH_TEST', host: '127.0.0.1', port: 0, store, sink, logger, maxPduLength: MAX_PDU, associationTimeoutMs: 5_000, ...overrides });
    return { scp: s, port: (await s.listen()).port };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ldh-scp-ul-'));
    store = await createInstanceStore({ rootDir: join(dir, 'store') });
    ({ scp, port } = await start());
  });

  afterAll(async () => {
    await scp?.close();
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const c of cases) {
    it(`answers ${c.name} with A-ABORT (source 2, reason ${c.reason}), closes, and keeps serving`, async () => {
      const peer = await RawPeer.connect(port);
      if (c.associate) {
        peer.send(associateRq('LDH_TEST', 'RAWSCU', VERIFICATION, IMPLICIT_LE));
        expect((await peer.takePdu())[0]).toBe(0x02); // A-ASSOCIATE-AC
      }
      peer.send(c.bad());
      expect((await peer.rest()).toString('hex')).toBe(abortBytes(2, c.reason).toString('hex'));
      expect(peer.closed).toBe(true);
      const r = await echoscu(port);
      expect(r.code, r.out).toBe(0);
    });
  }

  it('serves a raw C-ECHO and A-RELEASE-RQ normally (the valid path through the same checks)', async () => {
    const peer = await RawPeer.connect(port);
    peer.send(associateRq('LDH_TEST', 'RAWSCU', VERIFICATION, IMPLICIT_LE));
    expect((await peer.takePdu())[0]).toBe(0x02);
    peer.send(pDataTf(1, true, true, cEchoCommand()));
    const rsp = await peer.takePdu();
    expect(rsp[0]).toBe(0x04);
    peer.send(pdu(0x05, Buffer.alloc(4)));
    expect((await peer.takePdu()).toString('hex')).toBe('06000000000400000000'); // A-RELEASE-RP
    peer.socket.end();
    expect((await peer.rest()).length).toBe(0);
  });

  it('closes without an answer on an A-ABORT before association (AA-2)', async () => {
    const peer = await RawPeer.connect(port);
    peer.send(abortBytes(0, 0));
    expect((await peer.rest()).length).toBe(0);
  });

  it('rejects an A-ASSOCIATE-RQ over the limit on its header alone, drops half-sent RQs after ARTIM, then serves again', async () => {
    const limited = await start({ maxAssociations: 2, associationTimeoutMs: 600 });
    try {
      // Two connections announce a 60 KiB A-ASSOCIATE-RQ, send 1 KiB of it and stall.
      const header = Buffer.from([0x01, 0, 0, 0, 0xf0, 0]);
      const stalled = await Promise.all([RawPeer.connect(limited.port), RawPeer.connect(limited.port)]);
      for (const s of stalled) s.send(Buffer.concat([header, Buffer.alloc(1024)]));
      // The third sends only the 6-byte header: A-ASSOCIATE-RJ (2 transient, 3 provider-presentation, 2 local-limit-exceeded).
      const third = await RawPeer.connect(limited.port);
      third.send(header);
      expect((await third.rest()).toString('hex')).toBe(Buffer.from([0x03, 0, 0, 0, 0, 4, 0, 2, 3, 2]).toString('hex'));
      const meanwhile = await echoscu(limited.port);
      expect(meanwhile.code).not.toBe(0);
      expect(meanwhile.out).toMatch(/Local Limit Exceeded/i);
      // ARTIM: the half-sent RQs are dropped without an answer.
      for (const s of stalled) expect((await s.rest()).length).toBe(0);
      const after = await echoscu(limited.port);
      expect(after.code, after.out).toBe(0);
    } finally {
      await limited.scp.close();
    }
  });
});
