import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvError } from '@ldh/config';
import { loadDashboardEnv } from './env.js';

const base = { DATABASE_URL: 'postgresql://u@127.0.0.1:5432/db' };

describe('dashboard env', () => {
  it('has the documented defaults', () => {
    const e = loadDashboardEnv({ ...base, LDH_DASHBOARD_SECRET: 'x'.repeat(32) });
    expect(e.LDH_DASHBOARD_PORT).toBe(8080);
    expect(e.LDH_DASHBOARD_HOST).toBe('127.0.0.1');
    expect(e.LDH_DASHBOARD_SECURE_COOKIE).toBe(true);
  });

  it('requires a session secret, and says which variable', () => {
    expect(() => loadDashboardEnv(base)).toThrow(EnvError);
    expect(() => loadDashboardEnv(base)).toThrow(/LDH_DASHBOARD_SECRET: required/);
    expect(() => loadDashboardEnv({ ...base, LDH_DASHBOARD_SECRET: 'short' })).toThrow(/LDH_DASHBOARD_SECRET: must have at least 32/);
  });

  it('reads the secret from a file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ldh-secret-'));
    writeFileSync(path.join(dir, 'good'), `${'k'.repeat(40)}\n`);
    writeFileSync(path.join(dir, 'short'), 'tiny\n');
    expect(loadDashboardEnv({ ...base, LDH_DASHBOARD_SECRET_FILE: path.join(dir, 'good') }).LDH_DASHBOARD_SECRET).toBe('k'.repeat(40));
    expect(() => loadDashboardEnv({ ...base, LDH_DASHBOARD_SECRET_FILE: path.join(dir, 'short') })).toThrow(/LDH_DASHBOARD_SECRET_FILE: the file must hold at least 32/);
    expect(() => loadDashboardEnv({ ...base, LDH_DASHBOARD_SECRET_FILE: path.join(dir, 'missing') })).toThrow(/LDH_DASHBOARD_SECRET_FILE: cannot read: ENOENT/);
  });
});
