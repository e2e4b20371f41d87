import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EnvError, envFields, parseEnv, serviceEnvShape, tlsAllOrNothing } from '@ldh/config';

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

describe('parseEnv messages (what was expected, what was given)', () => {
  const full = z.object({ LOG_LEVEL: envFields.logLevel, LDH_SCP_PORT: envFields.port.default(11112), N: envFields.positiveInt.default(1), DATABASE_URL: envFields.databaseUrl });
  const message = (source: Record<string, string>) => {
    try {
      parseEnv(full, source);
      return 'accepted';
    } catch (e) {
      return (e as Error).message;
    }
  };
  it('says what a bad port, level or number was', () => {
    const msg = message({ LOG_LEVEL: 'loud', LDH_SCP_PORT: 'abc', N: '0' });
    expect(msg).toContain("LDH_SCP_PORT: expected an integer port 0-65535, got 'abc'");
    expect(msg).toContain("LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got 'loud'");
    expect(msg).toContain("N: expected a positive integer, got '0'");
    expect(msg).toContain('DATABASE_URL: required, but unset');
    expect(message({ LDH_SCP_PORT: '70000', DATABASE_URL: 'postgresql://u@h/db' })).toContain("got '70000'");
  });
  it('an empty LOG_LEVEL is the default', () => {
    expect(parseEnv(full, { LOG_LEVEL: '', DATABASE_URL: 'postgresql://u@h/db' }).LOG_LEVEL).toBe('info');
  });
  it('never echoes a password', () => {
    const msg = message({ DATABASE_URL: 'mysql://admin:s3cret@h/db' });
    expect(msg).toContain('DATABASE_URL');
    expect(msg).not.toContain('s3cret');
  });
  it('TLS all or nothing runs beside the field checks', () => {
    const tls = z.object({ PORT: envFields.port.default(1), CERT: z.string().optional(), KEY: z.string().optional(), CA: z.string().optional() });
    const check = tlsAllOrNothing({ cert: 'CERT', key: 'KEY', ca: 'CA' });
    const run = (s: Record<string, string>) => {
      try {
        parseEnv(tls, s, [check]);
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(run({ CERT: 'c.pem', PORT: 'x' })).toMatch(/KEY: required with CERT[\s\S]*PORT:|PORT:[\s\S]*KEY: required with CERT/);
    expect(run({ KEY: 'k.pem' })).toContain('CERT: required with KEY');
    expect(run({ CA: 'ca.pem' })).toContain('CA: set without CERT and KEY');
    expect(run({ CERT: 'c.pem', KEY: 'k.pem' })).toBe('accepted');
    expect(run({ CERT: 'c.pem', KEY: 'k.pem', CA: 'ca.pem' })).toBe('accepted');
  });
});
