import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createLogger, rateLimitedLog } from '@ldh/config';

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

describe('rateLimitedLog', () => {
  it('writes the first occurrence, then at most one line per interval with the suppressed count', () => {
    const lines: string[] = [];
    const logger = createLogger('t', { level: 'info' }, { write: (l: string) => void lines.push(l) });
    const say = rateLimitedLog(logger, { intervalMs: 60_000 });
    for (let i = 0; i < 100; i++) say('redis', { err: 'ECONNREFUSED' }, 'redis down');
    say('postgres', {}, 'postgres down');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'redis down', err: 'ECONNREFUSED', level: 40 });
  });
});
