import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EnvError, envFields, parseEnv } from '@ldh/config';

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
