import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskSpaceCheck } from './checks.js';
import { startHttpServer, type RunningHttpServer } from './http-server.js';
import { createObservability } from './observability.js';
import { startRoleObservability } from './role.js';

const obs = createObservability({ checkTimeoutMs: 200 });
let server: RunningHttpServer;
let failing = false;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-obs-'));

beforeAll(async () => {
  server = await startHttpServer({ host: '127.0.0.1', port: 0, registry: obs.registry, checks: obs.runReadiness });
  obs.addReadinessCheck('test.flag', async () => {
    if (failing) throw new Error('flag down');
  });
  obs.addReadinessCheck('test.disk', diskSpaceCheck(tmp, 1));
});
afterAll(async () => {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('startHttpServer', () => {
  it('serves the registry at /metrics in the Prometheus text format', async () => {
    obs.metrics.scp.instances.inc({ outcome: 'stored' }, 3);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('ldh_scp_instances_total{outcome="stored"} 3');
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toMatch(/ldh_readiness_check\{check="test.flag"\} 1/);
  });

  it('answers /healthz 200 and /readyz 200 with each check, or 503 naming the failed one', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ok = await fetch(`${server.url}/readyz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'ready', checks: { 'test.flag': { ok: true }, 'test.disk': { ok: true } } });
    failing = true;
    try {
      const bad = await fetch(`${server.url}/readyz`);
      expect(bad.status).toBe(503);
      expect(await bad.json()).toMatchObject({ status: 'unready', failed: ['test.flag'], checks: { 'test.flag': { ok: false, error: 'flag down' }, 'test.disk': { ok: true } } });
      expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/ldh_readiness_check\{check="test.flag"\} 0/);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      failing = false;
    }
  });

  it('fails a check that does not answer within its timeout', async () => {
    const remove = obs.addReadinessCheck('test.hang', () => new Promise(() => undefined), { timeoutMs: 50 });
    try {
      const res = await fetch(`${server.url}/readyz`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { checks: Record<string, { error?: string }> }).checks['test.hang']?.error).toBe('test.hang timed out after 50 ms');
    } finally {
      remove();
    }
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('names the variables when the port is taken', async () => {
    await expect(startHttpServer({ host: '127.0.0.1', port: server.port, registry: obs.registry, checks: obs.runReadiness })).rejects.toThrow(/LDH_HTTP_PORT.*EADDRINUSE/);
  });
});

describe('Observability', () => {
  it('refuses a duplicate check name and reports "startup" until a role has started', async () => {
    const o = createObservability({ defaultMetrics: false });
    o.addReadinessCheck('a', async () => undefined);
    expect(() => o.addReadinessCheck('a', async () => undefined)).toThrow(/already registered/);
    const done = o.starting('scp');
    expect(await o.runReadiness()).toMatchObject({ ready: false, checks: { startup: { ok: false, error: 'starting: scp' } } });
    done();
    expect((await o.runReadiness()).ready).toBe(true);
  });

  it('times job attempts by queue and outcome, DelayedError as delayed', async () => {
    const o = createObservability({ defaultMetrics: false });
    const ok = o.timeJob('q', async (n: number) => n * 2);
    expect(await ok(2)).toBe(4);
    const delayed = o.timeJob('q', async () => {
      throw Object.assign(new Error('moved to delayed'), { name: 'DelayedError' });
    });
    await expect(delayed()).rejects.toThrow('moved to delayed');
    await expect(o.timeJob('q', async () => Promise.reject(new Error('boom')))()).rejects.toThrow('boom');
    const text = await o.registry.metrics();
    for (const outcome of ['completed', 'delayed', 'failed']) expect(text).toContain(`ldh_job_duration_seconds_count{queue="q",outcome="${outcome}"} 1`);
  });

  it('reads studies by state and storage space on scrape; a failing source leaves no stale series', async () => {
    const o = createObservability({ defaultMetrics: false });
    let fail = false;
    o.addStudiesSource(async () => {
      if (fail) throw new Error('db down');
      return { done: 3, failed: 1 };
    });
    o.addStorageDir(tmp);
    const text = await o.registry.metrics();
    expect(text).toContain('ldh_studies{state="done"} 3');
    expect(text).toMatch(/ldh_storage_free_bytes [1-9]/);
    expect(text).toMatch(/ldh_storage_size_bytes [1-9]/);
    fail = true;
    expect(await o.registry.metrics()).not.toContain('ldh_studies{');
  });

  it('a role started alone serves its own endpoints and closes them on close()', async () => {
    const role = await startRoleObservability('solo', undefined, { host: '127.0.0.1', port: 0 });
    const url = role.server!.url;
    expect((await fetch(`${url}/readyz`)).status).toBe(503); // starting
    role.started();
    await role.close();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
