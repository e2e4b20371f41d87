/** The CLI's bad-input paths: a clear message naming the problem and a non-zero exit, never a stack trace. */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDatabase, createDatabaseOf, dropDatabaseOf } from '@ldh/db';
import { startFolderDestination } from './services.js';

const cli = fileURLToPath(new URL('../dist/main.js', import.meta.url));

const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.LDH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-cli-errors-'));
const databases: string[] = [];

afterAll(async () => {
  for (const url of databases) await dropDatabaseOf(url);
  rmSync(tmp, { recursive: true, force: true });
});

function ldh(args: string[], env: Record<string, string> = {}, cwd?: string) {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first`);
  return spawnSync(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 60_000, ...(cwd ? { cwd } : {}) });
}

/** A database URL on the test server whose database does not exist (yet). */
function freshDatabaseUrl(): string {
  const url = new URL(adminUrl);
  url.pathname = `/ldh_cfg_${randomBytes(5).toString('hex')}`;
  databases.push(url.toString());
  return url.toString();
}

/** Every valid variable of every role, so a test changes only what it is about. */
function validEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { DATABASE_URL: freshDatabaseUrl(), REDIS_URL: redisUrl, LDH_QUEUE_PREFIX: `ldh-cfg-${process.pid}`, LDH_STORAGE_DIR: path.join(tmp, 'storage'), LDH_SCP_HOST: '127.0.0.1', LDH_SCP_PORT: '0', LDH_ALLOWED_PEERS: '*', LDH_MIN_FREE_BYTES: '0', ...extra };
}

describe('ldh bad input', () => {
  it('names every bad environment variable and exits 2 before starting anything', () => {
    const r = ldh(['serve'], { DATABASE_URL: 'mysql://x', LDH_SCP_PORT: '70000', LDH_ALLOWED_PEERS: 'THIS_AE_TITLE_IS_TOO_LONG' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('DATABASE_URL');
    expect(r.stderr).toContain('LDH_SCP_PORT');
    expect(r.stderr).toContain('LDH_ALLOWED_PEERS');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
  it('rejects an unknown role, a bad port and a bad phantom spec with a message', () => {
    expect(ldh(['serve', '--role', 'scp,bogus']).stderr).toContain('unknown role(s): bogus');
    const port = ldh(['send', '.', '--port', '99999']);
    expect(port.status).not.toBe(0);
    expect(port.stderr).toContain('--port must be an integer');
    const spec = ldh(['phantom', '--out', '/tmp/ldh-never-written', '--levels', 'L9-L10:huge']);
    expect(spec.status).toBe(2);
    expect(spec.stderr).toMatch(/L9-L10/);
  });
  it('prints help for every command', () => {
    for (const cmd of ['serve', 'send', 'phantom', 'demo']) {
      const r = ldh([cmd, '--help']);
      expect(r.status, cmd).toBe(0);
      expect(r.stdout).toContain(`Usage: ldh ${cmd}`);
    }
  });

  it('reports every bad variable of every selected role in one message, with what was expected and what was given', () => {
    const r = ldh(['serve'], { LOG_LEVEL: 'loud', LDH_SCP_PORT: 'abc', LDH_INFERENCE_CONCURRENCY: 'many', LDH_DELIVERY_TIMEOUT_MS: '-5', REDIS_URL: 'http://x' });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain("LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got 'loud'");
    expect(r.stderr).toContain("LDH_SCP_PORT: expected an integer port 0-65535, got 'abc'");
    expect(r.stderr).toContain("LDH_INFERENCE_CONCURRENCY: expected a positive integer, got 'many'"); // worker
    expect(r.stderr).toContain("LDH_DELIVERY_TIMEOUT_MS: expected a positive integer, got '-5'"); // writer
    expect(r.stderr).toContain('DATABASE_URL: required, but unset');
    // A variable every role reads is reported once, not once per role.
    expect(r.stderr.match(/REDIS_URL:/g)).toHaveLength(1);
    expect(r.stderr.match(/Invalid configuration/g)).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('treats an empty LOG_LEVEL as the default (no pino internals message)', () => {
    const r = ldh(['serve', '--role', 'scp'], { LOG_LEVEL: '', LDH_SCP_PORT: 'abc' });
    expect(r.status).toBe(2);
    expect(r.stderr).not.toContain('LOG_LEVEL');
    expect(r.stderr).not.toMatch(/default level|custom levels/);
    expect(r.stderr).toContain('LDH_SCP_PORT');
  });

  it('refuses half-configured TLS instead of serving plain TCP', () => {
    const scp = (tls: Record<string, string>) => ldh(['serve', '--role', 'scp'], validEnv(tls));
    const certOnly = scp({ LDH_SCP_TLS_CERT: '/etc/ldh/cert.pem' });
    expect(certOnly.status).toBe(2);
    expect(certOnly.stderr).toContain('LDH_SCP_TLS_KEY: required with LDH_SCP_TLS_CERT');
    const keyOnly = scp({ LDH_SCP_TLS_KEY: '/etc/ldh/key.pem' });
    expect(keyOnly.status).toBe(2);
    expect(keyOnly.stderr).toContain('LDH_SCP_TLS_CERT: required with LDH_SCP_TLS_KEY');
    const caOnly = scp({ LDH_SCP_TLS_CA: '/etc/ldh/ca.pem' });
    expect(caOnly.status).toBe(2);
    expect(caOnly.stderr).toContain('LDH_SCP_TLS_CA: set without LDH_SCP_TLS_CERT and LDH_SCP_TLS_KEY');
    const dest = ldh(['serve', '--role', 'writer'], validEnv({ LDH_DESTINATIONS: 'pacs=PACS@127.0.0.1:104?ca=/etc/ldh/ca.pem' }));
    expect(dest.status).toBe(2);
    expect(dest.stderr).toContain('ca, cert and key need tls');
    const destKey = ldh(['serve', '--role', 'writer'], validEnv({ LDH_DESTINATIONS: 'pacs=PACS@127.0.0.1:104?tls&key=/etc/ldh/k.pem' }));
    expect(destKey.status).toBe(2);
    expect(destKey.stderr).toContain('cert and key go together');
  });

  it('a missing database is a hint, not a driver error (exit 1); --migrate creates it', async () => {
    const env = validEnv();
    const r = ldh(['serve', '--role', 'writer'], env);
    expect(r.status, r.stderr).toBe(1);
    const name = new URL(env.DATABASE_URL!).pathname.slice(1);
    expect(r.stderr).toContain(`database "${name}" does not exist`);
    expect(r.stderr).toContain('ldh serve --migrate');
    expect(r.stderr).not.toMatch(/\n\s+at |Prisma|invocation/);

    // The hint works: --migrate creates the database, migrates it, and serves.
    const child = spawn(process.execPath, [cli, 'serve', '--role', 'writer', '--migrate'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((res) => child.once('exit', res));
    const until = Date.now() + 90_000;
    while (!out.includes('ldh serving') && child.exitCode === null && Date.now() < until) await new Promise((res) => setTimeout(res, 200));
    expect(out).toContain('ldh serving');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect((await checkDatabase(env.DATABASE_URL!)).state).toBe('ready');
  });

  it('an unmigrated database says to run --migrate (exit 1)', async () => {
    const env = validEnv();
    await createDatabaseOf(env.DATABASE_URL!);
    const r = ldh(['serve', '--role', 'worker'], env);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/lacks \d+ migration\(s\).*ldh serve --migrate/);
  });

  it('exit codes: 2 for usage errors (commander\'s too), 0 for help and version', () => {
    expect(ldh(['--no-such-option']).status).toBe(2);
    expect(ldh(['no-such-command']).status).toBe(2);
    expect(ldh(['send']).status).toBe(2); // missing <dir>
    expect(ldh(['serve', '--role', 'scp,bogus']).status).toBe(2);
    expect(ldh(['--version']).status).toBe(0);
    expect(ldh(['--help']).status).toBe(0);
  });

  it('ldh phantom prints where labels.csv is, not its content', () => {
    const out = path.join(tmp, 'phantom');
    const r = ldh(['phantom', '--out', out, '--seed', '3']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/labels: .*labels\.csv$/);
    expect(r.stdout).toContain(path.join(out, 'labels.csv'));
    const firstRow = readFileSync(path.join(out, 'labels.csv'), 'utf8').split('\n')[0]!;
    expect(r.stdout).not.toContain(firstRow);
  });

  it('ldh train resolves relative paths against the caller\'s folder', () => {
    // A folder with no labels.csv, named relatively from a cwd outside the repository: the error
    // must name it under that cwd (training used to run in the repository root).
    const cwd = mkdtempSync(path.join(tmp, 'train-cwd-'));
    const r = ldh(['train', '--data', 'no-such-data', '--run-dir', 'run', '--epochs', '1'], {}, cwd);
    expect(r.status).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toContain(path.join(cwd, 'no-such-data'));
  });

  it('a rejected association is reported in words (PS3.8 result, source, reason)', async () => {
    const out = path.join(tmp, 'phantom-send');
    expect(ldh(['phantom', '--out', out, '--seed', '4']).status).toBe(0);
    const sink = await startFolderDestination(path.join(tmp, 'sink'));
    try {
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const studyDir = readdirSync(out, { withFileTypes: true }).find((d) => d.isDirectory())!.name;
        const child = spawn(process.execPath, [cli, 'send', path.join(out, studyDir), '--port', String(sink.port), '--called-aet', 'NOT_THE_SINK'], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.once('exit', (code) => resolve({ code, stderr }));
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('rejected-permanent by service user: called AE title not recognized');
    } finally {
      await sink.stop();
    }
  });
});
