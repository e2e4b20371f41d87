import { describe, expect, it } from 'vitest';
import { associateRq, cEchoCommand, pDataTf, pdu } from './test-raw-pdus.js';
import { PduReader, type PduProblem } from './pdu-reader.js';
import { AbortReasonCode, abortReasonFor, pduVerdict, type UpperLayerState } from './upper-layer.js';

/** mulberry32: a small seeded PRNG, so a failing iteration can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LIMITS = { maxPDataLength: 16 * 1024, maxOtherLength: 64 * 1024 };

const seeds: Buffer[] = [
  associateRq('LDH_TEST', 'RAWSCU', '1.2.840.10008.1.1', '1.2.840.10008.1.2'),
  pDataTf(1, true, true, cEchoCommand()),
  pDataTf(3, false, false, Buffer.alloc(3000, 7)),
  pdu(0x05, Buffer.alloc(4)),
  pdu(0x07, Buffer.from([0, 0, 2, 2])),
];

function mutate(rand: () => number, input: Buffer): Buffer {
  let b = Buffer.from(input);
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(rand() * b.length);
    switch (Math.floor(rand() * 6)) {
      case 0: // bit flip
        b[at] = (b[at] ?? 0) ^ (1 << Math.floor(rand() * 8));
        break;
      case 1: // truncation
        b = b.subarray(0, at);
        break;
      case 2: // PDU length field 0 / huge / random
        if (b.length >= 6) b.writeUInt32BE([0, 0xffffffff, Math.floor(rand() * 2 ** 32)][Math.floor(rand() * 3)] ?? 0, 2);
        break;
      case 3: // random PDU type
        if (b.length > 0) b[0] = Math.floor(rand() * 256);
        break;
      case 4: // a PDV item length 0 / huge (P-DATA: at offset 6)
        if (b.length >= 10) b.writeUInt32BE([0, 1, 0xffffffff][Math.floor(rand() * 3)] ?? 0, 6);
        break;
      case 5: // two PDUs back to back (the reader must keep its place)
        b = Buffer.concat([b, seeds[Math.floor(rand() * seeds.length)] ?? Buffer.alloc(0)]);
        break;
    }
  }
  return b;
}

describe('PDU reader under fuzzing (seeded mutations of valid PDUs)', () => {
  it('never throws, never buffers past its limits, and ends every input in a PDU or a typed problem mapped to an A-ABORT reason', () => {
    const rand = prng(0x1dc0de);
    const outcomes = { pdus: 0, problems: 0, incomplete: 0 };
    for (let iteration = 0; iteration < 5000; iteration++) {
      const input = mutate(rand, seeds[iteration % seeds.length] ?? Buffer.alloc(0));
      const streaming = rand() < 0.5;
      const problems: PduProblem[] = [];
      let pdus = 0;
      let maxBuffered = 0;
      const reader = new PduReader(
        {
          streamPData: () => streaming,
          onPdu: (p) => {
            pdus += 1;
            // A PDU handed on is whole: its length field matches its bytes.
            expect(p.length, `iteration ${iteration}`).toBe(6 + p.readUInt32BE(2));
          },
          onPdvStart: () => true,
          onPdvData: () => undefined,
          onPdvEnd: () => undefined,
          onInvalid: (p) => problems.push(p),
        },
        LIMITS,
      );
      // Random socket chunking.
      let pos = 0;
      while (pos < input.length) {
        const step = 1 + Math.floor(rand() * 700);
        expect(() => reader.push(input.subarray(pos, pos + step)), `iteration ${iteration}`).not.toThrow();
        maxBuffered = Math.max(maxBuffered, reader.bufferedBytes);
        pos += step;
      }
      expect(maxBuffered, `iteration ${iteration}`).toBeLessThanOrEqual(6 + LIMITS.maxOtherLength);
      expect(problems.length, `iteration ${iteration}`).toBeLessThanOrEqual(1);
      const problem = problems[0];
      if (problem) {
        expect(['unrecognized-pdu', 'pdu-too-long', 'malformed-pdv']).toContain(problem.kind);
        expect([AbortReasonCode.UnrecognizedPdu, AbortReasonCode.InvalidPduParameter]).toContain(abortReasonFor(problem));
        if (problem.kind === 'pdu-too-long') expect(problem.length).toBeGreaterThan(problem.limit ?? 0);
        outcomes.problems += 1;
      } else if (pdus > 0) outcomes.pdus += 1;
      else outcomes.incomplete += 1; // truncated: waits for more bytes, bounded above
    }
    // The mutations reach every outcome (the fuzzer is not stuck on one path).
    expect(outcomes.pdus).toBeGreaterThan(100);
    expect(outcomes.problems).toBeGreaterThan(100);
    expect(outcomes.incomplete).toBeGreaterThan(100);
  });
});

describe('upper-layer state table (PS3.8 Table 9-10, acceptor rows)', () => {
  const table: Array<[UpperLayerState, number, string]> = [
    ['awaiting-associate-rq', 0x01, 'accept'],
    ['awaiting-associate-rq', 0x02, 'abort 2'],
    ['awaiting-associate-rq', 0x03, 'abort 2'],
    ['awaiting-associate-rq', 0x04, 'abort 2'],
    ['awaiting-associate-rq', 0x05, 'abort 2'],
    ['awaiting-associate-rq', 0x06, 'abort 2'],
    ['awaiting-associate-rq', 0x07, 'close'],
    ['awaiting-associate-rq', 0x08, 'abort 1'],
    ['associated', 0x01, 'abort 2'],
    ['associated', 0x02, 'abort 2'],
    ['associated', 0x03, 'abort 2'],
    ['associated', 0x04, 'accept'],
    ['associated', 0x05, 'accept'],
    ['associated', 0x06, 'abort 2'],
    ['associated', 0x07, 'accept'],
    ['associated', 0xff, 'abort 1'],
    ['closing', 0x04, 'close'],
    ['closing', 0x01, 'close'],
  ];
  it.each(table)('%s, PDU type 0x%s → %s', (state, type, expected) => {
    const v = pduVerdict(state, type);
    expect(v.action === 'abort' ? `abort ${v.reason}` : v.action).toBe(expected);
  });
});
