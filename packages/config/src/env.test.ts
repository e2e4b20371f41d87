import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EnvError, envFields, parseEnv, serviceEnvShape } from '@ldh/config';

const schema = z.object({
  DATABASE_URL: envFields.databaseUrl,
  LDH_SCP_PORT: envFields.port.default(11112),
  LDH_AE_TITLE: envFields.aeTitle.default('LDH'),
});

describe('parseEnv', () => {
  it('applies defaults and coerces numbers', () => {
    const env = parseEnv(schema, { DATABASE_URL: 'postgresql://u@h:5432/db', LDH_SCP_PORT: '' });
    expect(env.LDH_SCP_PORT).toBe(11112);
    expect(env.LDH_AE_TITLE).toBe('LDH');
  });
  it('names every bad variable', () => {
    try {
      parseEnv(schema, { DATABASE_URL: 'mysql://x', LDH_SCP_PORT: '70000', LDH_AE_TITLE: 'WAY_TOO_LONG_AE_TITLE' });
      expect.fail('should throw');
    } catch (e) {
      expect(e).toBeInstanceOf(EnvError);
      const msg = (e as Error).message;
      expect(msg).toContain('DATABASE_URL');
      expect(msg).toContain('LDH_SCP_PORT');
      expect(msg).toContain('LDH_AE_TITLE');
    }
  });
});

describe('serviceEnvShape: the observability endpoints', () => {
  const service = z.object(serviceEnvShape);
  it('defaults to 0.0.0.0:9464 and accepts 0 (any free port)', () => {
    const env = parseEnv(service, { DATABASE_URL: 'postgresql://u@h:5432/db' });
    expect([env.LDH_HTTP_HOST, env.LDH_HTTP_PORT]).toEqual(['0.0.0.0', 9464]);
    expect(parseEnv(service, { DATABASE_URL: 'postgresql://u@h:5432/db', LDH_HTTP_PORT: '0', LDH_HTTP_HOST: '::1' })).toMatchObject({ LDH_HTTP_PORT: 0, LDH_HTTP_HOST: '::1' });
  });
  it('names LDH_HTTP_PORT and LDH_HTTP_HOST when they are bad', () => {
    expect(() => parseEnv(service, { DATABASE_URL: 'postgresql://u@h:5432/db', LDH_HTTP_PORT: '65536', LDH_HTTP_HOST: 'http://x:1' })).toThrow(/LDH_HTTP_PORT[\s\S]*LDH_HTTP_HOST|LDH_HTTP_HOST[\s\S]*LDH_HTTP_PORT/);
  });
});
