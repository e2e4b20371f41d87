/**
 * Hand-built upper-layer PDUs and a raw socket peer, for tests that send what dcmtk never sends.
 * Test support only (not exported from the package).
 */
import net from 'node:net';

export function pdu(type: number, body: Buffer): Buffer {
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

/** A-ASSOCIATE-RQ proposing presentation context 1: `abstractSyntax` with one transfer syntax. */
export function associateRq(calledAe: string, callingAe: string, abstractSyntax: string, ts: string): Buffer {
  const fixed = Buffer.alloc(68, 0);
  fixed.writeUInt16BE(1, 0);
  fixed.write(calledAe.padEnd(16), 4, 'latin1');
  fixed.write(callingAe.padEnd(16), 20, 'latin1');
  const appCtx = item(0x10, Buffer.from('1.2.840.10008.3.1.1.1'));
  const pc = item(0x20, Buffer.concat([Buffer.from([1, 0, 0, 0]), item(0x30, Buffer.from(abstractSyntax)), item(0x40, Buffer.from(ts))]));
  const maxLen = Buffer.alloc(4);
  maxLen.writeUInt32BE(16384, 0);
  const user = item(0x50, Buffer.concat([item(0x51, maxLen), item(0x52, Buffer.from('1.2.3.4'))]));
  return pdu(0x01, Buffer.concat([fixed, appCtx, pc, user]));
}

export function pDataTf(pcId: number, command: boolean, last: boolean, data: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt32BE(data.length + 2, 0);
  h.writeUInt8(pcId, 4);
  h.writeUInt8((command ? 1 : 0) | (last ? 2 : 0), 5);
  return pdu(0x04, Buffer.concat([h, data]));
}

/** A C-ECHO-RQ command set (implicit VR little endian, group length first). */
export function cEchoCommand(): Buffer {
  const el = (e: number, v: Buffer): Buffer => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(e, 2);
    h.writeUInt32LE(v.length, 4);
    return Buffer.concat([h, v]);
  };
  const us = (v: number): Buffer => Buffer.from([v & 0xff, v >> 8]);
  const body = Buffer.concat([el(0x0002, Buffer.from('1.2.840.10008.1.1\0')), el(0x0100, us(0x30)), el(0x0110, us(1)), el(0x0800, us(0x0101))]);
  const gl = Buffer.alloc(4);
  gl.writeUInt32LE(body.length, 0);
  return Buffer.concat([el(0x0000, gl), body]);
}

export const abortBytes = (source: number, reason: number): Buffer => Buffer.from([0x07, 0, 0, 0, 0, 4, 0, 0, source, reason]);

/** A raw TCP peer that records every byte it receives and when the other side closed. */
export class RawPeer {
  received = Buffer.alloc(0);
  closed = false;
  private readonly closedPromise: Promise<void>;
  private wake: (() => void) | undefined;
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
      this.wake?.();
    });
    socket.on('error', () => undefined);
    this.closedPromise = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        this.wake?.();
        resolve();
      }),
    );
  }
  static connect(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawPeer(s)));
      s.once('error', reject);
    });
  }
  send(b: Buffer): void {
    this.socket.write(b);
  }
  /** Waits until at least `n` bytes arrived (or the socket closed) and takes them. */
  async take(n: number): Promise<Buffer> {
    while (this.received.length < n && !this.closed) await new Promise<void>((r) => (this.wake = r));
    const out = this.received.subarray(0, n);
    this.received = this.received.subarray(n);
    return out;
  }
  /** Takes one whole PDU (header included). */
  async takePdu(): Promise<Buffer> {
    const h = await this.take(6);
    if (h.length < 6) return h;
    return Buffer.concat([h, await this.take(h.readUInt32BE(2))]);
  }
  /** Resolves with every byte received after what was taken, once the other side closed. */
  async rest(): Promise<Buffer> {
    await this.closedPromise;
    return this.received;
  }
}
