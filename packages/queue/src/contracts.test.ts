import { describe, expect, it } from 'vitest';
import { allContracts, deliveryJob, studyRouteJob } from '@ldh/queue';

describe('job contracts', () => {
  it('bound every queue’s attempts and use backoff', () => {
    for (const c of allContracts) {
      expect(c.defaults.attempts).toBeGreaterThan(0);
      expect(c.defaults.attempts).toBeLessThanOrEqual(10);
      expect(c.defaults.backoff).toBeDefined();
      expect(c.defaults.removeOnComplete).toBeDefined();
    }
    expect(new Set(allContracts.map((c) => c.queue)).size).toBe(allContracts.length);
  });
  it('reject malformed payloads', () => {
    expect(studyRouteJob.schema.safeParse({ studyId: 'nope', studyInstanceUid: '1.2', revision: 0 }).success).toBe(false);
    expect(studyRouteJob.schema.safeParse({ studyId: '3f1e1d2c-1b1a-4c9d-8e7f-6a5b4c3d2e1f', studyInstanceUid: '1.02', revision: 0 }).success).toBe(false);
    expect(deliveryJob.schema.safeParse({ deliveryId: '3f1e1d2c-1b1a-4c9d-8e7f-6a5b4c3d2e1f', studyInstanceUid: '1.2.3' }).success).toBe(true);
  });
});
