import { describe, expect, it } from 'vitest';
import { parseStorescuLog } from './send.js';

describe('parseStorescuLog', () => {
  it('counts a file as ACKed only on a Success or Warning response', () => {
    const log = [
      'I: Requesting Association',
      'I: Sending file: a/1.dcm',
      'I: Sending Store Request (MsgID 1, MR)',
      'I: Received Store Response (Success)',
      'I: Sending file: a/2.dcm',
      'I: Received Store Response (Warning: Coercion of data elements)',
      'I: Sending file: a/3.dcm',
      'E: Store Failed, file: a/3.dcm:',
      'I: Received Store Response (Out of Resources)',
      'I: Sending file: a/4.dcm',
      'E: Association Aborted',
    ].join('\n');
    expect(parseStorescuLog(log)).toEqual(['a/1.dcm', 'a/2.dcm']);
  });
});
