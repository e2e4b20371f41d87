import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawPeer } from './test-raw-pdus.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const viteNode = join(dirname(createRequire(import.meta.url).resolve('vite-node/package.json')), 'vite-node.mjs');
const MB = 1024 * 1024;
const ARTIM_MS = 3_000;

async function echoscu(port: number): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('echoscu', ['-aet', 'ECHOSCU', '-aec', 'LDH_TEST', '127.0.0.1', String(port)], { timeout: 30_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('association limit under a connection flood (SCP in a child process)', () => {
  let dir: string;
  let child: ReturnType<typeof spawn>;
  let port: number;
  const lines: string[] = [];
  let wake: (() => void) | undefined;

  async function nextLine(prefix: string): Promise<string> {
    for (;;) {
      const i = lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return lines.splice(i, 1)[0] ?? '';
      await new Promise<void>((r) => (wake = r));
    }
  }

  async function rss(): Promise<number> {
    child.stdin?.write('rss\n');
    return Number((await nextLine('RSS ')).split(' ')[1]);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ldh-scp-flood-'));
    child = spawn(process.execPath, ['--expose-gc', viteNode, join(here, 'test-scp-child.ts'), join(dir, 'store'), '32', String(ARTIM_MS)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: child.stdout! }).on('line', (l) => {
      lines.push(l);
      wake?.();
    });
    port = Number((await nextLine('LISTENING ')).split(' ')[1]);
  }, 60_000);

  afterAll(async () => {
    child?.stdin?.end();
    await new Promise((r) => child?.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  });

  it('200 half-sent A-ASSOCIATE-RQs add < 20 MB RSS, over-limit ones get A-ASSOCIATE-RJ, ARTIM drops the rest and the memory is given back', async () => {
    await echoscu(port); // warm the association path before the baseline
    const baseline = await rss();
    // Each announces a 60 KiB A-ASSOCIATE-RQ, sends 1 KiB of it, and stalls.
    const header = Buffer.from([0x01, 0, 0, 0, 0xf0, 0]);
    const peers: RawPeer[] = [];
    for (let i = 0; i < 200; i++) {
      const p = await RawPeer.connect(port);
      p.send(Buffer.concat([header, Buffer.alloc(1024)]));
      peers.push(p);
    }
    const rj = Buffer.from([0x03, 0, 0, 0, 0, 4, 0, 2, 3, 2]).toString('hex');
    // Over the limit of 32: rejected on the header and closed at once.
    const rejected = await Promise.all(peers.slice(32).map((p) => p.rest()));
    for (const r of rejected) expect(r.toString('hex')).toBe(rj);
    const during = await rss();
    // A normal association meanwhile: the 32 slots are held, so local-limit-exceeded.
    const meanwhile = await echoscu(port);
    expect(meanwhile.out).toMatch(/Local Limit Exceeded/i);
    // ARTIM drops the 32 half-sent RQs without an answer.
    const dropped = await Promise.all(peers.slice(0, 32).map((p) => p.rest()));
    for (const d of dropped) expect(d.length).toBe(0);
    const after = await rss();
    const r = await echoscu(port);
    expect(r.code, r.out).toBe(0);
    console.log(`flood RSS: baseline ${(baseline / MB).toFixed(1)} MB, during +${((during - baseline) / MB).toFixed(1)} MB, after +${((after - baseline) / MB).toFixed(1)} MB`);
    expect(during - baseline).toBeLessThan(20 * MB);
    expect(after - baseline).toBeLessThan(10 * MB);
  }, 60_000);
});
