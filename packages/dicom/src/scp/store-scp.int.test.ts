import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@ldh/config';
import { createInstanceStore, type InstanceStore } from '@ldh/storage';
import { newUid } from '../uid.js';
import { buildPart10Header, readPart10Layout } from './part10-meta.js';
import { createStoreScp, DEFAULT_MAX_PDU_LENGTH, type IngestSink, type ReceivedInstance, type StoreScp, type StoreScpOptions } from './store-scp.js';
import { buildTestMrInstance } from './test-instance.js';

const run = promisify(execFile);
const MR = '1.2.840.10008.5.1.4.1.1.4';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

interface ToolResult {
  code: number;
  out: string;
}

/** Runs a dcmtk tool; never throws, returns exit code and combined output. */
async function tool(cmd: string, args: string[]): Promise<ToolResult> {
  try {
    const { stdout, stderr } = await run(cmd, args, { env: { ...process.env, TCP_NODELAY: '1' }, timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

function datasetBytes(file: Buffer): Buffer {
  return file.subarray(readPart10Layout(file).datasetOffset);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A recording sink: the SCP's contract is tested here; the Postgres sink has its own tests. */
class RecordingSink implements IngestSink {
  instances: ReceivedInstance[] = [];
  notStored: ReceivedInstance[] = [];
  overloaded = false;
  failNext = false;
  /** Called when a commit starts (before it resolves). */
  onCommitStart?: (instance: ReceivedInstance) => void;
  async commit(instance: ReceivedInstance): Promise<{ outcome: 'stored' | 'duplicate' | 'new-version' }> {
    this.onCommitStart?.(instance);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('database unavailable');
    }
    const dup = this.instances.some((i) => i.sopInstanceUid === instance.sopInstanceUid && i.sha256 === instance.sha256);
    this.instances.push(instance);
    return { outcome: dup ? 'duplicate' : 'stored' };
  }
  async fileNotStored(instance: ReceivedInstance): Promise<void> {
    this.notStored.push(instance);
  }
  async isOverloaded(): Promise<boolean> {
    return this.overloaded;
  }
}

// ---- a minimal raw DICOM upper-layer client, to send what dcmtk refuses to send ----

function pdu(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt8(type, 0);
  h.writeUInt32BE(body.length, 2);
  return Buffer.concat([h, body]);
}

function item(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt8(type, 0);
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}

function associateRq(calledAe: string, callingAe: string, abstractSyntax: string, ts: string, extra: Array<[number, string]> = []): Buffer {
  const fixed = Buffer.alloc(68, 0x20);
  fixed.writeUInt16BE(1, 0);
  fixed.writeUInt16BE(0, 2);
  fixed.write(calledAe.padEnd(16), 4, 'latin1');
  fixed.write(callingAe.padEnd(16), 20, 'latin1');
  fixed.fill(0, 36, 68);
  const appCtx = item(0x10, Buffer.from('1.2.840.10008.3.1.1.1'));
  const pcs = [[1, abstractSyntax] as [number, string], ...extra].map(([id, as]) =>
    item(0x20, Buffer.concat([Buffer.from([id, 0, 0, 0]), item(0x30, Buffer.from(as)), item(0x40, Buffer.from(ts))])),
  );
  const pc = Buffer.concat(pcs);
  const maxLen = Buffer.alloc(4);
  maxLen.writeUInt32BE(16384, 0);
  const user = item(0x50, Buffer.concat([item(0x51, maxLen), item(0x52, Buffer.from('1.2.3.4'))]));
  return pdu(0x01, Buffer.concat([fixed, appCtx, pc, user]));
}

function implicitElement(group: number, elem: number, value: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(elem, 2);
  h.writeUInt32LE(value.length, 4);
  return Buffer.concat([h, value]);
}

function uidValue(uid: string): Buffer {
  const b = Buffer.from(uid, 'latin1');
  return b.length % 2 ? Buffer.concat([b, Buffer.from([0])]) : b;
}

function us(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v, 0);
  return b;
}

function cEchoCommand(): Buffer {
  const body = Buffer.concat([
    implicitElement(0, 0x0002, uidValue('1.2.840.10008.1.1')),
    implicitElement(0, 0x0100, us(0x0030)),
    implicitElement(0, 0x0110, us(3)),
    implicitElement(0, 0x0800, us(0x0101)),
  ]);
  const gl = Buffer.alloc(4);
  gl.writeUInt32LE(body.length, 0);
  return Buffer.concat([implicitElement(0, 0x0000, gl), body]);
}

function cStoreCommand(sopClass: string, sopInstance: string): Buffer {
  const body = Buffer.concat([
    implicitElement(0, 0x0002, uidValue(sopClass)),
    implicitElement(0, 0x0100, us(0x0001)),
    implicitElement(0, 0x0110, us(7)),
    implicitElement(0, 0x0700, us(0)),
    implicitElement(0, 0x0800, us(0x0000)),
    implicitElement(0, 0x1000, uidValue(sopInstance)),
  ]);
  const gl = Buffer.alloc(4);
  gl.writeUInt32LE(body.length, 0);
  return Buffer.concat([implicitElement(0, 0x0000, gl), body]);
}

function pDataTf(pcId: number, command: boolean, last: boolean, data: Buffer): Buffer {
  const pdvHeader = Buffer.alloc(6);
  pdvHeader.writeUInt32BE(data.length + 2, 0);
  pdvHeader.writeUInt8(pcId, 4);
  pdvHeader.writeUInt8((command ? 1 : 0) | (last ? 2 : 0), 5);
  return pdu(0x04, Buffer.concat([pdvHeader, data]));
}

/** Reads PDUs from a socket; resolves each `next()` with { type, body } or null when the socket closes. */
class RawPeer {
  private buf = Buffer.alloc(0);
  private waiters: Array<(p: { type: number; body: Buffer } | null) => void> = [];
  private closed = false;
  readonly socket: net.Socket;
  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.drain();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(null);
    });
    socket.on('error', () => undefined);
  }
  static connect(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawPeer(s)));
      s.once('error', reject);
    });
  }
  private drain(): void {
    while (this.waiters.length > 0 && this.buf.length >= 6) {
      const len = this.buf.readUInt32BE(2);
      if (this.buf.length < 6 + len) return;
      const p = { type: this.buf[0] ?? 0, body: this.buf.subarray(6, 6 + len) };
      this.buf = this.buf.subarray(6 + len);
      this.waiters.shift()?.(p);
    }
  }
  next(): Promise<{ type: number; body: Buffer } | null> {
    return new Promise((resolve) => {
      if (this.closed && this.buf.length < 6) return resolve(null);
      this.waiters.push(resolve);
      this.drain();
    });
  }
  send(b: Buffer): void {
    this.socket.write(b);
  }
  /** Waits until the peer (our SCP) closes the connection. */
  async closedByPeer(): Promise<void> {
    while ((await this.next()) !== null) {
      /* discard */
    }
  }
}

/** Status (0000,0900) from a C-STORE-RSP command set in a P-DATA-TF body. */
function statusOf(pDataBody: Buffer): number {
  const cmd = pDataBody.subarray(6);
  let pos = 0;
  while (pos + 8 <= cmd.length) {
    const el = cmd.readUInt16LE(pos + 2);
    const len = cmd.readUInt32LE(pos + 4);
    if (el === 0x0900) return cmd.readUInt16LE(pos + 8);
    pos += 8 + len;
  }
  throw new Error('no status in response');
}

// ------------------------------------------------------------------------------------

describe('store SCP against dcmtk peers', () => {
  let dir: string;
  let store: InstanceStore;
  let sink: RecordingSink;
  let scp: StoreScp;
  let port: number;
  const logLines: string[] = [];
  const logger = createLogger('scp-test', {
    level: 'debug',
    hooks: {
      logMethod(args) {
        logLines.push(JSON.stringify(args));
      },
    },
  });

  async function startScp(overrides: Partial<StoreScpOptions> = {}): Promise<{ scp: StoreScp; port: number }> {
    const s = createStoreScp({
      aeTitle: 'LDH_TEST',
      host: '127.0.0.1',
      port: 0,
      store,
      sink,
      logger,
      allowList: [{ aeTitle: 'STORESCU' }, { aeTitle: 'ECHOSCU', ip: '127.0.0.1' }, { aeTitle: 'RAWSCU' }],
      maxAssociations: 8,
      maxPduLength: 64 * 1024,
      idleTimeoutMs: 5_000,
      associationTimeoutMs: 2_000,
      ...overrides,
    });
    const { port: p } = await s.listen();
    return { scp: s, port: p };
  }

  async function storescu(args: string[], files: string[], p = port): Promise<ToolResult> {
    return tool('storescu', ['-aet', 'STORESCU', '-aec', 'LDH_TEST', ...args, '127.0.0.1', String(p), ...files]);
  }

  async function echo(p = port, aet = 'ECHOSCU'): Promise<ToolResult> {
    return tool('echoscu', ['-aet', aet, '-aec', 'LDH_TEST', '127.0.0.1', String(p)]);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ldh-scp-'));
    store = await createInstanceStore({ rootDir: join(dir, 'store') });
    sink = new RecordingSink();
    ({ scp, port } = await startScp());
  });

  afterAll(async () => {
    await scp?.close();
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers C-ECHO', async () => {
    const r = await echo();
    expect(r.code, r.out).toBe(0);
  });

  it('stores every supported transfer syntax byte-identically (dataset part) with our meta header', async () => {
    const base = join(dir, 'base.dcm');
    await writeFile(base, buildTestMrInstance({ rows: 96, columns: 96, instanceNumber: 1 }));
    const cases: Array<{ name: string; make: string[] | null; propose: string[]; ts: string }> = [
      { name: 'explicit-le', make: null, propose: ['-xe'], ts: EXPLICIT_LE },
      { name: 'implicit-le', make: ['dcmconv', '+ti'], propose: ['-xi'], ts: '1.2.840.10008.1.2' },
      { name: 'explicit-be', make: ['dcmconv', '+tb'], propose: ['-xb'], ts: '1.2.840.10008.1.2.2' },
      { name: 'deflated', make: ['dcmconv', '+td'], propose: ['-xd'], ts: '1.2.840.10008.1.2.1.99' },
      { name: 'jpeg-baseline', make: ['dcmcjpeg', '+eb'], propose: ['-xy'], ts: '1.2.840.10008.1.2.4.50' },
      { name: 'jpeg-extended', make: ['dcmcjpeg', '+ee'], propose: ['-xx'], ts: '1.2.840.10008.1.2.4.51' },
      { name: 'jpeg-lossless', make: ['dcmcjpeg', '+e1'], propose: ['-xs'], ts: '1.2.840.10008.1.2.4.70' },
      { name: 'jpeg-ls', make: ['dcmcjpls'], propose: ['-xt'], ts: '1.2.840.10008.1.2.4.80' },
      { name: 'rle', make: ['dcmcrle'], propose: ['-xr'], ts: '1.2.840.10008.1.2.5' },
    ];
    for (const c of cases) {
      const file = c.make ? join(dir, `${c.name}.dcm`) : base;
      if (c.make) {
        const [cmd, ...flags] = c.make as [string, ...string[]];
        const made = await tool(cmd, [...flags, base, file]);
        expect(made.code, made.out).toBe(0);
      }
      const before = sink.instances.length;
      const r = await storescu(c.propose, [file]);
      expect(r.code, `${c.name}: ${r.out}`).toBe(0);
      const got = sink.instances[before];
      expect(got?.transferSyntaxUid, c.name).toBe(c.ts);
      const sent = await readFile(file);
      const stored = await readFile(store.pathOf(got!.storageKey));
      if (c.name === 'deflated') {
        // storescu inflates and re-deflates on the wire, so the deflate streams differ from the
        // file's; compared: the inflated dataset bytes of the sent file vs of the stored file.
        expect(sha(inflateRawSync(datasetBytes(stored))), c.name).toBe(sha(inflateRawSync(datasetBytes(sent))));
      } else {
        // Compared: the dataset bytes after group 0002 of the sent file vs of the stored file.
        expect(sha(datasetBytes(stored)), c.name).toBe(sha(datasetBytes(sent)));
      }
      expect(sha(stored)).toBe(got!.sha256);
      expect(stored.length).toBe(got!.sizeBytes);
    }
    // JPEG 2000: no encoder here (dcmtk 3.6.7 has none, gdcmconv absent). Stored-as-received needs
    // no decoding, so an encapsulated JPEG-LS dataset labelled JPEG 2000 exercises the same path.
    const jls = await readFile(join(dir, 'jpeg-ls.dcm'));
    const j2kFile = join(dir, 'j2k.dcm');
    const jlsUid = sink.instances.find((i) => i.transferSyntaxUid === '1.2.840.10008.1.2.4.80')!.sopInstanceUid;
    await writeFile(
      j2kFile,
      Buffer.concat([
        buildPart10Header({ mediaStorageSopClassUid: MR, mediaStorageSopInstanceUid: jlsUid, transferSyntaxUid: '1.2.840.10008.1.2.4.90' }),
        datasetBytes(jls),
      ]),
    );
    const r = await storescu(['-xv'], [j2kFile]);
    expect(r.code, r.out).toBe(0);
    const j2k = sink.instances.at(-1)!;
    expect(j2k.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.90');
    expect(sha(datasetBytes(await readFile(store.pathOf(j2k.storageKey))))).toBe(sha(datasetBytes(jls)));
  });

  it('keeps the whole file byte-identical when the sender already uses our meta header, private tags included', async () => {
    const sop = newUid();
    const dataset = datasetBytes(buildTestMrInstance({ sopInstanceUid: sop, instanceNumber: 5 }));
    const file = Buffer.concat([
      buildPart10Header({ mediaStorageSopClassUid: MR, mediaStorageSopInstanceUid: sop, transferSyntaxUid: EXPLICIT_LE, sourceApplicationEntityTitle: 'STORESCU' }),
      dataset,
    ]);
    const path = join(dir, 'ours.dcm');
    await writeFile(path, file);
    const r = await storescu(['-xe'], [path]);
    expect(r.code, r.out).toBe(0);
    const got = sink.instances.at(-1)!;
    const stored = await readFile(store.pathOf(got.storageKey));
    expect(stored.equals(file)).toBe(true);
    expect(stored.includes(Buffer.from('LDH TEST CREATOR'))).toBe(true);
    expect(got).toMatchObject({
      sopInstanceUid: sop,
      sopClassUid: MR,
      modality: 'MR',
      instanceNumber: 5,
      seriesNumber: 3,
      callingAeTitle: 'STORESCU',
      calledAeTitle: 'LDH_TEST',
      remoteAddress: '127.0.0.1',
    });
    // The same bytes again: same storage key, the sink sees a duplicate.
    const again = await storescu(['-xe'], [path]);
    expect(again.code, again.out).toBe(0);
    expect(sink.instances.at(-1)!.storageKey).toBe(got.storageKey);
  });

  it('rejects a calling AE that is not on the allow-list, and a wrong called AE', async () => {
    const bad = await echo(port, 'INTRUDER');
    expect(bad.code).not.toBe(0);
    expect(bad.out).toMatch(/Calling AE Title Not Recognized/i);
    const wrongIp = await tool('echoscu', ['-aet', 'ECHOSCU', '-aec', 'LDH_TEST', '127.0.0.2', String(port)]);
    expect(wrongIp.code).not.toBe(0);
    const wrongCalled = await tool('echoscu', ['-aet', 'ECHOSCU', '-aec', 'SOMEONE', '127.0.0.1', String(port)]);
    expect(wrongCalled.code).not.toBe(0);
    expect(wrongCalled.out).toMatch(/Called AE Title Not Recognized/i);
    expect((await echo()).code).toBe(0);
  });

  it('answers 0xA700 when the sink is overloaded and stores nothing', async () => {
    const file = join(dir, 'overload.dcm');
    await writeFile(file, buildTestMrInstance());
    const objectsBefore = (await listFiles(join(dir, 'store', 'objects'))).length;
    sink.overloaded = true;
    const r = await storescu(['-v', '-xe'], [file]);
    sink.overloaded = false;
    expect(r.out).toMatch(/Received Store Response \(Refused: OutOfResources\)/);
    expect((await listFiles(join(dir, 'store', 'objects'))).length).toBe(objectsBefore);
    expect(await readdir(join(dir, 'store', 'tmp'))).toEqual([]);
  });

  it('answers 0xA700 when the sink fails, and succeeds on the retry', async () => {
    const file = join(dir, 'sinkfail.dcm');
    await writeFile(file, buildTestMrInstance());
    sink.failNext = true;
    const r = await storescu(['-v', '-xe'], [file]);
    expect(r.out).toMatch(/Received Store Response \(Refused: OutOfResources\)/);
    const retry = await storescu(['-xe'], [file]);
    expect(retry.code, retry.out).toBe(0);
  });

  it('records the row while the file is written, answers only after both and the rename, and reports a write that failed after the commit', async () => {
    // A store whose next write waits until the sink has started committing: if the SCP committed
    // only after the write, this would never finish.
    let commitStarted: () => void = () => undefined;
    const commitSeen = new Promise<void>((resolve) => (commitStarted = resolve));
    let failWrite = false;
    const gated: InstanceStore = {
      ...store,
      async writeObject(data, opts) {
        await commitSeen;
        if (failWrite) throw new Error('EIO: simulated write failure');
        return store.writeObject(data, opts);
      },
    };
    const parallel = await startScp({ store: gated });
    sink.onCommitStart = () => commitStarted();
    try {
      const sop = newUid();
      const file = join(dir, 'parallel.dcm');
      await writeFile(file, buildTestMrInstance({ sopInstanceUid: sop }));
      const r = await storescu(['-xe'], [file], parallel.port);
      expect(r.code, r.out).toBe(0);
      const got = sink.instances.at(-1)!;
      expect(got.sopInstanceUid).toBe(sop);
      expect(got.storageKey).toBe(store.storageKeyOf(got.sha256));
      // Success came after the rename: the object is at its content address.
      expect(sha(await readFile(store.pathOf(got.storageKey)))).toBe(got.sha256);

      // The write fails after the row committed: 0xA700, and the sink hears that the file is missing.
      failWrite = true;
      const lostSop = newUid();
      const lostFile = join(dir, 'lost.dcm');
      await writeFile(lostFile, buildTestMrInstance({ sopInstanceUid: lostSop }));
      const lost = await storescu(['-v', '-xe'], [lostFile], parallel.port);
      expect(lost.out).toMatch(/Received Store Response \(Refused: OutOfResources\)/);
      const lostRow = sink.instances.at(-1)!;
      expect(lostRow.sopInstanceUid).toBe(lostSop);
      expect(sink.notStored.map((i) => i.sopInstanceUid)).toEqual([lostSop]);
      expect(await store.exists(lostRow.storageKey)).toBe(false);
      // A failed write of bytes already stored (a duplicate) leaves the stored file alone and
      // is not reported: the row still has its file.
      const dup = await storescu(['-v', '-xe'], [file], parallel.port);
      expect(dup.out).toMatch(/Received Store Response \(Refused: OutOfResources\)/);
      expect(sink.notStored).toHaveLength(1);
      expect(await store.exists(got.storageKey)).toBe(true);

      // The sender's retry of the lost instance stores it.
      failWrite = false;
      const retry = await storescu(['-xe'], [lostFile], parallel.port);
      expect(retry.code, retry.out).toBe(0);
      expect(sha(await readFile(store.pathOf(lostRow.storageKey)))).toBe(lostRow.sha256);
    } finally {
      sink.onCommitStart = undefined;
      sink.notStored = [];
      await parallel.scp.close();
    }
  });

  it('announces a 128 KiB maximum PDU length by default, and dcmtk then sends PDVs that large', async () => {
    expect(DEFAULT_MAX_PDU_LENGTH).toBe(128 * 1024);
    const byDefault = createStoreScp({ aeTitle: 'LDH_TEST', host: '127.0.0.1', port: 0, store, sink, logger, allowList: [{ aeTitle: 'STORESCU' }, { aeTitle: 'RAWSCU' }] });
    const { port: p } = await byDefault.listen();
    try {
      expect(byDefault.maxPduLength).toBe(128 * 1024);
      const peer = await RawPeer.connect(p);
      peer.send(associateRq('LDH_TEST', 'RAWSCU', MR, EXPLICIT_LE));
      const ac = await peer.next();
      expect(ac?.type).toBe(0x02);
      // User information item (0x50) > maximum length sub-item (0x51): a 4-byte big-endian value.
      const at = ac!.body.indexOf(Buffer.from([0x51, 0x00, 0x00, 0x04]), 68);
      expect(at).toBeGreaterThan(0);
      expect(ac!.body.readUInt32BE(at + 4)).toBe(128 * 1024);
      peer.socket.destroy();
      const sop = newUid();
      const file = join(dir, 'bigpdu.dcm');
      await writeFile(file, buildTestMrInstance({ sopInstanceUid: sop, rows: 256, columns: 256 }));
      const r = await storescu(['-xe', '-v'], [file], p);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/Association Accepted \(Max Send PDV: 131060\)/);
      expect(sink.instances.at(-1)?.sopInstanceUid).toBe(sop);
    } finally {
      await byDefault.close();
    }
  });

  it('refuses an unknown SOP class at association time', async () => {
    const peer = await RawPeer.connect(port);
    peer.send(associateRq('LDH_TEST', 'RAWSCU', '1.2.3.4.5.6.7', EXPLICIT_LE));
    const ac = await peer.next();
    expect(ac?.type).toBe(0x02);
    // Presentation context item 0x21: result byte (offset 4 of the item body) = 3 abstract syntax not supported.
    const body = ac!.body;
    const pcAt = body.indexOf(Buffer.from([0x21, 0x00]), 68);
    expect(body[pcAt + 4 + 2]).toBe(3);
    peer.socket.destroy();
  });

  async function rawStore(datasetBuf: Buffer, sopClass: string, sopInstance: string): Promise<number | null> {
    const peer = await RawPeer.connect(port);
    peer.send(associateRq('LDH_TEST', 'RAWSCU', MR, EXPLICIT_LE));
    const ac = await peer.next();
    expect(ac?.type).toBe(0x02);
    peer.send(pDataTf(1, true, true, cStoreCommand(sopClass, sopInstance)));
    peer.send(pDataTf(1, false, true, datasetBuf));
    const rsp = await peer.next();
    peer.socket.destroy();
    return rsp && rsp.type === 0x04 ? statusOf(rsp.body) : null;
  }

  it('fails a truncated dataset with 0xC000, keeps nothing, and serves the next association', async () => {
    const sop = newUid();
    const ds = datasetBytes(buildTestMrInstance({ sopInstanceUid: sop }));
    const objectsBefore = (await listFiles(join(dir, 'store', 'objects'))).length;
    const status = await rawStore(ds.subarray(0, ds.length - 1000), MR, sop);
    expect(status).toBe(0xc000);
    expect((await listFiles(join(dir, 'store', 'objects'))).length).toBe(objectsBefore);
    expect(await readdir(join(dir, 'store', 'tmp'))).toEqual([]);
    expect((await echo()).code).toBe(0);
  });

  it('accepts a command and its dataset in one P-DATA-TF PDU, and several C-STOREs on one association', async () => {
    const peer = await RawPeer.connect(port);
    peer.send(associateRq('LDH_TEST', 'RAWSCU', MR, EXPLICIT_LE));
    expect((await peer.next())?.type).toBe(0x02);
    for (let i = 0; i < 3; i++) {
      const sop = newUid();
      const ds = datasetBytes(buildTestMrInstance({ sopInstanceUid: sop, instanceNumber: 40 + i }));
      const cmd = cStoreCommand(MR, sop);
      // One PDU, two PDVs: command (last) + whole dataset (last).
      const pdv = (command: boolean, data: Buffer): Buffer => {
        const h = Buffer.alloc(6);
        h.writeUInt32BE(data.length + 2, 0);
        h.writeUInt8(1, 4);
        h.writeUInt8((command ? 1 : 0) | 2, 5);
        return Buffer.concat([h, data]);
      };
      peer.send(pdu(0x04, Buffer.concat([pdv(true, cmd), pdv(false, ds)])));
      const rsp = await peer.next();
      expect(rsp && statusOf(rsp.body)).toBe(0x0000);
      const got = sink.instances.at(-1)!;
      expect(got.sopInstanceUid).toBe(sop);
      expect(sha(datasetBytes(await readFile(store.pathOf(got.storageKey))))).toBe(sha(ds));
    }
    peer.socket.destroy();
  });

  it('serves C-ECHO and C-STORE interleaved on one association', async () => {
    const peer = await RawPeer.connect(port);
    peer.send(associateRq('LDH_TEST', 'RAWSCU', MR, EXPLICIT_LE, [[3, '1.2.840.10008.1.1']]));
    expect((await peer.next())?.type).toBe(0x02);
    for (let i = 0; i < 2; i++) {
      peer.send(pDataTf(3, true, true, cEchoCommand()));
      const echoRsp = await peer.next();
      expect(echoRsp && statusOf(echoRsp.body)).toBe(0x0000);
      const sop = newUid();
      peer.send(pDataTf(1, true, true, cStoreCommand(MR, sop)));
      peer.send(pDataTf(1, false, true, datasetBytes(buildTestMrInstance({ sopInstanceUid: sop }))));
      const storeRsp = await peer.next();
      expect(storeRsp && statusOf(storeRsp.body)).toBe(0x0000);
      expect(sink.instances.at(-1)!.sopInstanceUid).toBe(sop);
    }
    peer.socket.destroy();
  });

  it('fails a dataset whose SOP Instance UID differs from the command with 0xA900', async () => {
    const ds = datasetBytes(buildTestMrInstance({ sopInstanceUid: newUid() }));
    expect(await rawStore(ds, MR, newUid())).toBe(0xa900);
  });

  it('fails a dataset without a valid Study Instance UID with 0xC000', async () => {
    const sop = newUid();
    const ds = datasetBytes(buildTestMrInstance({ sopInstanceUid: sop, studyInstanceUid: 'not.a.uid' }));
    expect(await rawStore(ds, MR, sop)).toBe(0xc000);
  });

  it('aborts on a garbage PDU, on an oversize PDU and on silence, and keeps serving', async () => {
    const garbage = await RawPeer.connect(port);
    garbage.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await garbage.closedByPeer();

    const oversize = await RawPeer.connect(port);
    oversize.send(associateRq('LDH_TEST', 'RAWSCU', MR, EXPLICIT_LE));
    expect((await oversize.next())?.type).toBe(0x02);
    const huge = Buffer.alloc(6);
    huge.writeUInt8(0x04, 0);
    huge.writeUInt32BE(0x7fffffff, 2);
    oversize.send(huge);
    const abort = await oversize.next();
    expect(abort?.type).toBe(0x07);
    await oversize.closedByPeer();

    // Connects and never sends A-ASSOCIATE-RQ: closed after associationTimeoutMs.
    const silent = await RawPeer.connect(port);
    await silent.closedByPeer();

    const r = await storescu(['-xe'], [join(dir, 'base.dcm')]);
    expect(r.code, r.out).toBe(0);
  });

  it('drops a partial dataset when the sender vanishes mid-transfer', async () => {
    const sop = newUid();
    const ds = datasetBytes(buildTestMrInstance({ sopInstanceUid: sop }));
    const peer = await RawPeer.connect(port);
    peer.send(associateRq('LDH_TEST', 'RAWSCU', MR, EXPLICIT_LE));
    await peer.next();
    peer.send(pDataTf(1, true, true, cStoreCommand(MR, sop)));
    peer.send(pDataTf(1, false, false, ds.subarray(0, 4000)));
    await new Promise((r) => setTimeout(r, 200));
    peer.socket.destroy();
    for (let i = 0; i < 50 && (await readdir(join(dir, 'store', 'tmp'))).length > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await readdir(join(dir, 'store', 'tmp'))).toEqual([]);
    expect(sink.instances.some((i) => i.sopInstanceUid === sop)).toBe(false);
    expect((await echo()).code).toBe(0);
  });

  it('aborts an association that goes quiet after idleTimeoutMs (idle or mid-dataset), not a slow one, and keeps serving', async () => {
    const idle = await startScp({ idleTimeoutMs: 400, keepInMemoryBytes: 2048 });
    try {
      const associate = async (): Promise<RawPeer> => {
        const peer = await RawPeer.connect(idle.port);
        peer.send(associateRq('LDH_TEST', 'RAWSCU', MR, EXPLICIT_LE));
        expect((await peer.next())?.type).toBe(0x02);
        return peer;
      };
      // Associated, then silent.
      const silent = await associate();
      expect((await silent.next())?.type).toBe(0x07); // A-ABORT
      await silent.closedByPeer();

      // Silent in the middle of a dataset (beyond keepInMemoryBytes: a temp file is open).
      const sop = newUid();
      const ds = datasetBytes(buildTestMrInstance({ sopInstanceUid: sop }));
      const stalled = await associate();
      stalled.send(pDataTf(1, true, true, cStoreCommand(MR, sop)));
      stalled.send(pDataTf(1, false, false, ds.subarray(0, 4000)));
      expect((await stalled.next())?.type).toBe(0x07);
      await stalled.closedByPeer();
      for (let i = 0; i < 50 && (await readdir(join(dir, 'store', 'tmp'))).length > 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await readdir(join(dir, 'store', 'tmp'))).toEqual([]);
      expect(sink.instances.some((i) => i.sopInstanceUid === sop)).toBe(false);
      expect(logLines.filter((l) => l.includes('association idle, aborting')).length).toBeGreaterThanOrEqual(2);

      // Slow but never quiet for idleTimeoutMs: each gap is shorter, the whole transfer longer.
      const slowSop = newUid();
      const slowDs = datasetBytes(buildTestMrInstance({ sopInstanceUid: slowSop, rows: 64, columns: 64 }));
      const slow = await associate();
      slow.send(pDataTf(1, true, true, cStoreCommand(MR, slowSop)));
      const pieces = 6;
      const size = Math.ceil(slowDs.length / pieces);
      for (let i = 0; i < pieces; i++) {
        await new Promise((r) => setTimeout(r, 150));
        slow.send(pDataTf(1, false, i === pieces - 1, slowDs.subarray(i * size, (i + 1) * size)));
      }
      const rsp = await slow.next();
      expect(rsp?.type).toBe(0x04);
      expect(statusOf(rsp!.body)).toBe(0x0000);
      slow.socket.destroy();

      // The listener keeps serving.
      const r = await storescu(['-xe'], [join(dir, 'base.dcm')], idle.port);
      expect(r.code, r.out).toBe(0);
    } finally {
      await idle.scp.close();
    }
  });

  it('does not abort as idle an association whose socket it paused itself (disk behind, back-pressure)', async () => {
    // The temp file opens 1.2 s late (a disk far behind): the spool fills, the SCP stops reading
    // the socket, and the sender waits for us: quiet on the wire for longer than idleTimeoutMs.
    const slowStore: InstanceStore = {
      ...store,
      beginWrite: async () => {
        await new Promise((r) => setTimeout(r, 1200));
        return store.beginWrite();
      },
    };
    const lagging = await startScp({ store: slowStore, idleTimeoutMs: 300, keepInMemoryBytes: 4096 });
    try {
      const sop = newUid();
      const file = join(dir, 'backpressure.dcm');
      await writeFile(file, buildTestMrInstance({ sopInstanceUid: sop, rows: 512, columns: 512 }));
      const before = logLines.filter((l) => l.includes('association idle, aborting')).length;
      const r = await storescu(['-xe'], [file], lagging.port);
      expect(r.code, r.out).toBe(0);
      expect(sink.instances.some((i) => i.sopInstanceUid === sop)).toBe(true);
      expect(logLines.filter((l) => l.includes('association idle, aborting')).length).toBe(before);
    } finally {
      await lagging.scp.close();
    }
  });

  it('streams datasets larger than keepInMemoryBytes through a temp file, with the same guarantees', async () => {
    const spilling = await startScp({ keepInMemoryBytes: 4096 });
    try {
      const sop = newUid();
      const file = join(dir, 'spill.dcm');
      const sent = buildTestMrInstance({ sopInstanceUid: sop, rows: 128, columns: 128 });
      await writeFile(file, sent);
      const r = await storescu(['-xe'], [file], spilling.port);
      expect(r.code, r.out).toBe(0);
      const got = sink.instances.at(-1)!;
      expect(got.sopInstanceUid).toBe(sop);
      expect(sha(datasetBytes(await readFile(store.pathOf(got.storageKey))))).toBe(sha(datasetBytes(sent)));

      const badSop = newUid();
      const ds = datasetBytes(buildTestMrInstance({ sopInstanceUid: badSop, rows: 128, columns: 128 }));
      const peer = await RawPeer.connect(spilling.port);
      peer.send(associateRq('LDH_TEST', 'RAWSCU', MR, EXPLICIT_LE));
      expect((await peer.next())?.type).toBe(0x02);
      peer.send(pDataTf(1, true, true, cStoreCommand(MR, badSop)));
      peer.send(pDataTf(1, false, false, ds.subarray(0, 10_000)));
      peer.send(pDataTf(1, false, true, ds.subarray(10_000, ds.length - 500)));
      const rsp = await peer.next();
      expect(rsp && statusOf(rsp.body)).toBe(0xc000);
      peer.socket.destroy();
      expect(await readdir(join(dir, 'store', 'tmp'))).toEqual([]);
      expect(sink.instances.some((i) => i.sopInstanceUid === badSop)).toBe(false);
    } finally {
      await spilling.scp.close();
    }
  });

  it('rejects associations over the limit with local-limit-exceeded', async () => {
    const limited = await startScp({ maxAssociations: 1 });
    try {
      const holder = await RawPeer.connect(limited.port);
      holder.send(associateRq('LDH_TEST', 'RAWSCU', MR, EXPLICIT_LE));
      expect((await holder.next())?.type).toBe(0x02);
      const r = await echo(limited.port);
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/Local Limit Exceeded/i);
      holder.socket.destroy();
    } finally {
      await limited.scp.close();
    }
  });

  it('speaks TLS (with client certificates) and closes plain connections to the TLS port cleanly', async () => {
    const tlsDir = join(dir, 'tls');
    await tool('mkdir', ['-p', tlsDir]);
    for (const who of ['server', 'client']) {
      const r = await tool('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=ldh-test-${who}`,
        '-addext', 'subjectAltName=IP:127.0.0.1',
        '-keyout', join(tlsDir, `${who}.key`), '-out', join(tlsDir, `${who}.crt`),
      ]);
      expect(r.code, r.out).toBe(0);
    }
    const secure = await startScp({
      tls: {
        key: await readFile(join(tlsDir, 'server.key')),
        cert: await readFile(join(tlsDir, 'server.crt')),
        ca: await readFile(join(tlsDir, 'client.crt')),
        requestClientCert: true,
      },
    });
    try {
      const file = join(dir, 'tls.dcm');
      await writeFile(file, buildTestMrInstance());
      const tlsArgs = ['+tls', join(tlsDir, 'client.key'), join(tlsDir, 'client.crt'), '+cf', join(tlsDir, 'server.crt')];
      const before = sink.instances.length;
      const ok = await storescu([...tlsArgs, '-xe'], [file], secure.port);
      expect(ok.code, ok.out).toBe(0);
      expect(sink.instances.length).toBe(before + 1);

      const plain = await echo(secure.port);
      expect(plain.code).not.toBe(0);

      const again = await storescu([...tlsArgs, '-xe'], [file], secure.port);
      expect(again.code, again.out).toBe(0);
    } finally {
      await secure.scp.close();
    }
  });

  it('counts what it did in Prometheus metrics', async () => {
    const text = await scp.metrics.registry.metrics();
    expect(text).toMatch(/ldh_scp_instances_total\{outcome="stored"\} [1-9]/);
    expect(text).toMatch(/ldh_scp_failures_total\{status="0xA700"\} [1-9]/);
    expect(text).toMatch(/ldh_scp_failures_total\{status="0xC000"\} [1-9]/);
    expect(text).toMatch(/ldh_scp_associations_total\{result="rejected-calling-ae"\} [1-9]/);
    expect(text).toMatch(/ldh_scp_store_duration_seconds_count\{outcome="stored"\} [1-9]/);
  });

  it('never logged PHI', () => {
    const all = logLines.join('\n');
    expect(all.length).toBeGreaterThan(0);
    expect(all).not.toContain('SYNTHETIC');
    expect(all).not.toContain('SYN-0001');
  });
});
