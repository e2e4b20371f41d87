import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createLogger } from '@ldh/config';

describe('createLogger', () => {
  it('writes JSON and redacts PHI fields at any usual depth', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger('test', {}, sink);
    log.info({ PatientName: 'DOE^JANE', study: { PatientID: 'P123', PatientBirthDate: '19700101' }, sopInstanceUid: '1.2.3' }, 'stored');
    log.flush();
    await new Promise((r) => setImmediate(r));
    const out = lines.join('');
    const parsed = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(parsed.msg).toBe('stored');
    expect(parsed.sopInstanceUid).toBe('1.2.3');
    for (const phi of ['DOE^JANE', 'P123', '19700101']) expect(out).not.toContain(phi);
    expect(pino.levels.values.info).toBe(30);
  });
});
