import { describe, expect, it } from 'vitest';
import { EnvError } from '@ldh/config';
import { loadWriterEnv } from './env.js';

const base = { DATABASE_URL: 'postgresql://u@h/db', REDIS_URL: 'redis://h:6379' };

describe('writer env', () => {
  it('parses destinations with TLS options and the delivery durations', () => {
    const env = loadWriterEnv({ ...base, LDH_DESTINATIONS: 'pacs=PACS@10.0.0.5:104, arch=ARCH@h:2762?tls&ca=/etc/ca.pem&cert=/etc/c.pem&key=/etc/k.pem', LDH_DELIVERY_GIVE_UP_AFTER: '30m' });
    expect(env.LDH_DESTINATIONS).toEqual([
      { name: 'pacs', aeTitle: 'PACS', host: '10.0.0.5', port: 104, tls: false, tlsCaPath: null, tlsCertPath: null, tlsKeyPath: null },
      { name: 'arch', aeTitle: 'ARCH', host: 'h', port: 2762, tls: true, tlsCaPath: '/etc/ca.pem', tlsCertPath: '/etc/c.pem', tlsKeyPath: '/etc/k.pem' },
    ]);
    expect(env.LDH_DELIVERY_GIVE_UP_AFTER).toBe(1_800_000);
    expect(loadWriterEnv(base).LDH_DELIVERY_GIVE_UP_AFTER).toBe(72 * 3_600_000);
    expect(loadWriterEnv({ ...base, LDH_DESTINATIONS: 'a=A@h:1?tls' }).LDH_DESTINATIONS?.[0]?.tls).toBe(true);
  });

  it('names the bad variable and why', () => {
    const bad = (extra: Record<string, string>) => {
      try {
        loadWriterEnv({ ...base, ...extra });
      } catch (e) {
        return e instanceof EnvError ? e.message : 'not an EnvError';
      }
      return 'accepted';
    };
    expect(bad({ LDH_DESTINATIONS: 'a=A@h:1?tls&cert=/c.pem' })).toContain('cert and key go together');
    expect(bad({ LDH_DESTINATIONS: 'a=A@h:1?verify=no' })).toContain('bad destination option "verify=no"');
    expect(bad({ LDH_DESTINATIONS: 'a=A@h:1?ca=/ca.pem' })).toContain('ca, cert and key need tls');
    expect(bad({ LDH_DESTINATIONS: 'a=A@h:1,a=B@h:2' })).toContain('listed twice');
    expect(bad({ LDH_DELIVERY_GIVE_UP_AFTER: 'forever' })).toContain('LDH_DELIVERY_GIVE_UP_AFTER: bad duration "forever"');
    expect(bad({ LDH_DELIVERY_BACKOFF_BASE_MS: '10000', LDH_DELIVERY_BACKOFF_MAX_MS: '5000' })).toContain('LDH_DELIVERY_BACKOFF_MAX_MS: must be at least LDH_DELIVERY_BACKOFF_BASE_MS');
  });
});
