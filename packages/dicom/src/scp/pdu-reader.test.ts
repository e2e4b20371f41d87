import { describe, expect, it } from 'vitest';
import { PduReader, type PduProblem } from './pdu-reader.js';

function pdu(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt8(type, 0);
  h.writeUInt32BE(body.length, 2);
  return Buffer.concat([h, body]);
}

function pdv(pcId: number, control: number, value: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt32BE(value.length + 2, 0);
  h.writeUInt8(pcId, 4);
  h.writeUInt8(control, 5);
  return Buffer.concat([h, value]);
}

/** Feeds `bytes` to a reader in pieces of `step` bytes and records what it reported. */
function read(bytes: Buffer, step: number, stream: () => boolean) {
  const events: string[] = [];
  const pdus: Buffer[] = [];
  const data: Buffer[] = [];
  const problems: PduProblem[] = [];
  const reader = new PduReader(
    {
      streamPData: stream,
      onPdu: (p) => pdus.push(Buffer.from(p)),
      onPdvStart: (p) => {
        events.push(`start ${p.pcId} ${p.command ? 'cmd' : 'data'} ${p.last ? 'last' : 'more'} ${p.length}`);
        return true;
      },
      onPdvData: (c) => data.push(Buffer.from(c)),
      onPdvEnd: () => events.push('end'),
      onInvalid: (p) => problems.push(p),
    },
    { maxPDataLength: 1024, maxOtherLength: 4096 },
  );
  for (let i = 0; i < bytes.length; i += step) reader.push(bytes.subarray(i, i + step));
  return { events, pdus, data: Buffer.concat(data), problems };
}

describe('PduReader', () => {
  const payload = Buffer.from(Array.from({ length: 700 }, (_, i) => i % 251));
  const stream = Buffer.concat([
    pdu(0x01, Buffer.from('associate')),
    pdu(0x04, Buffer.concat([pdv(1, 0x00, payload.subarray(0, 300)), pdv(1, 0x00, payload.subarray(300, 310))])),
    pdu(0x04, pdv(1, 0x02, payload.subarray(310))),
    pdu(0x05, Buffer.alloc(4)),
  ]);

  it.each([1, 5, 6, 7, 64, 10_000])('assembles whole PDUs when not streaming (chunks of %i bytes)', (step) => {
    const r = read(stream, step, () => false);
    expect(r.pdus.map((p) => p[0])).toEqual([0x01, 0x04, 0x04, 0x05]);
    expect(Buffer.concat(r.pdus).equals(stream)).toBe(true);
    expect(r.events).toEqual([]);
  });

  it.each([1, 5, 6, 7, 64, 10_000])('streams P-DATA values in order without assembling (chunks of %i bytes)', (step) => {
    const r = read(stream, step, () => true);
    expect(r.pdus.map((p) => p[0])).toEqual([0x01, 0x05]);
    expect(r.data.equals(payload)).toBe(true);
    expect(r.events).toEqual(['start 1 data more 300', 'end', 'start 1 data more 10', 'end', 'start 1 data last 390', 'end']);
  });

  it('rejects unknown PDU types and oversize PDUs from the header alone', () => {
    expect(read(Buffer.from('GET / HTTP/1.1\r\n'), 100, () => false).problems).toEqual([
      { kind: 'unrecognized-pdu', pduType: 0x47, length: Buffer.from('T / ').readUInt32BE(0) },
    ]);
    const huge = Buffer.from([0x04, 0, 0x7f, 0xff, 0xff, 0xff]);
    expect(read(huge, 100, () => true).problems[0]).toMatchObject({ kind: 'pdu-too-long', limit: 1024 });
  });

  it('rejects a PDV that runs past the end of its PDU', () => {
    const body = pdv(1, 0x00, Buffer.alloc(20));
    body.writeUInt32BE(200, 0);
    const r = read(pdu(0x04, body), 100, () => true);
    expect(r.problems[0]).toMatchObject({ kind: 'malformed-pdv' });
    expect(r.events).toEqual([]);
  });
});
