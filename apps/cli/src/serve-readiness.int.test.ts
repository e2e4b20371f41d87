/**
 * Honest readiness and clean stops (issue 15 item 3), against the built CLI as a child process:
 * with Redis or Postgres down `ldh serve` never says "ldh serving", writes one rate-limited JSON
 * line while it retries (no stack traces, no flood) and exits on SIGTERM within its bound; with
 * Redis killed under a serving process, SIGTERM still ends it (no worker.close() hanging forever).
 * Needs `npm run build` first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase } from '@ldh/db';
import { pingRedis } from '@ldh/queue';
import { freePort } from './services.js';

const cli = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.LDH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** SHUTDOWN_BOUND_MS (10 s) plus process start/teardown slack on a loaded 2-core machine. */
const EXIT_BOUND_MS = 20_000;

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-readiness-'));
let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;

function startServe(env: Record<string, string>, args: string[] = []): Running {
  let out = '';
  const child = spawn(process.execPath, [cli, 'serve', ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      LDH_QUEUE_PREFIX: `ldh-ready-${process.pid}-${Date.now()}`,
      LDH_STORAGE_DIR: path.join(tmp, `storage-${children.length}`),
      LDH_SCP_HOST: '127.0.0.1',
      LDH_ALLOWED_PEERS: '*',
      LDH_MIN_FREE_BYTES: '0',
      LDH_HTTP_PORT: '0',
      LDH_DASHBOARD_PORT: '0',
      LDH_DASHBOARD_SECRET: 'serve-readiness-test-secret-0123456789abcdef',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitForOutput(r: Running, needle: string, ms = 90_000): Promise<void> {
  const until = Date.now() + ms;
  while (!r.output().includes(needle)) {
    if (r.child.exitCode !== null) throw new Error(`ldh serve exited (${r.child.exitCode}) before "${needle}":\n${r.output()}`);
    if (Date.now() > until) throw new Error(`no "${needle}" from ldh serve:\n${r.output()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** SIGTERM, then the exit code, or 'hung' when the process outlives the bound (it is then killed). */
async function terminate(r: Running): Promise<number | null | 'hung'> {
  r.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([r.exited, new Promise<'hung'>((res) => (timer = setTimeout(() => res('hung'), EXIT_BOUND_MS)))]);
  clearTimeout(timer);
  if (outcome === 'hung') r.child.kill('SIGKILL');
  return outcome;
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

function nonJson(text: string): string[] {
  return lines(text).filter((l) => {
    try {
      return typeof JSON.parse(l) !== 'object';
    } catch {
      return true;
    }
  });
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first`);
  scratch = await createScratchDatabase(adminUrl, 'ldh_ready');
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await scratch?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('ldh serve readiness and shutdown', () => {
  it('with Redis down: no "ldh serving", one JSON line while retrying, SIGTERM ends it', async () => {
    const closedPort = await freePort();
    const r = startServe({ DATABASE_URL: scratch.url, REDIS_URL: `redis://127.0.0.1:${closedPort}`, LDH_SCP_PORT: String(await freePort()) });
    await waitForOutput(r, 'waiting for Redis');
    await sleep(8_000); // several retries (backoff 0.5, 1, 2, 4 s): each would have been a line before
    const out = r.output();
    expect(out).not.toContain('ldh serving');
    expect(nonJson(out), out).toEqual([]);
    const redisLines = lines(out).filter((l) => /redis/i.test(l));
    expect(redisLines.length, out).toBeLessThanOrEqual(2);
    expect(await terminate(r)).toBe(0);
    expect(nonJson(r.output()), r.output()).toEqual([]);
  });

  it('with Postgres down: no "ldh serving", one JSON line while retrying, SIGTERM ends it', async () => {
    const closedPort = await freePort();
    const r = startServe({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${closedPort}/ldh`, REDIS_URL: redisUrl, LDH_SCP_PORT: String(await freePort()) });
    await waitForOutput(r, 'waiting for Postgres');
    await sleep(8_000);
    const out = r.output();
    expect(out).not.toContain('ldh serving');
    expect(nonJson(out), out).toEqual([]);
    expect(lines(out).filter((l) => /postgres/i.test(l)).length, out).toBeLessThanOrEqual(2);
    expect(await terminate(r)).toBe(0);
  });

  it('Redis dying under a serving process: JSON lines only, rate-limited, and SIGTERM still exits', async () => {
    const port = await freePort();
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    children.push(redis);
    const url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 100 && !(await pingRedis(url, 500)); i++) await sleep(100);
    const r = startServe({ DATABASE_URL: scratch.url, REDIS_URL: url, LDH_SCP_PORT: String(await freePort()) });
    await waitForOutput(r, 'ldh serving');
    const before = lines(r.output()).length;
    redis.kill('SIGKILL');
    await sleep(8_000);
    const after = lines(r.output()).slice(before);
    expect(nonJson(r.output()), r.output()).toEqual([]);
    // Three roles, each with its connections and workers: one line per source per 30 s at most.
    expect(after.length, after.join('\n')).toBeLessThanOrEqual(12);
    const code = await terminate(r);
    expect(code === 0 || code === 1, `exit ${String(code)}\n${r.output()}`).toBe(true);
    expect(nonJson(r.output()), r.output()).toEqual([]);
  });
});
