import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestMrInstance, newUid, readPart10Layout } from '@ldh/dicom';
import { createDb, createScratchDatabase, listStudyAudit, type Db } from '@ldh/db';

const adminUrl = process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const childScript = fileURLToPath(new URL('./ingest-kill-child.mjs', import.meta.url));
const N = 200;
const KILL_AFTER_ACKS = 70;

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const datasetOf = (b: Buffer): Buffer => b.subarray(readPart10Layout(b).datasetOffset);

interface Child {
  proc: ChildProcess;
  port: number;
  swept: number;
  restored: number;
  removed: number;
  missing: number;
  orphans: number;
}

/**
 * Starts the SCP child (vite-node resolves the workspace sources) and waits for its port.
 * `killAfterCommit` > 0: that instance is never written and the child SIGKILLs itself once its row committed.
 */
function startChild(root: string, url: string, killAfterCommit = 0): Promise<Child> {
  const proc = spawn(process.execPath, [join(repoRoot, 'node_modules/vite-node/vite-node.mjs'), '--config', join(repoRoot, 'vitest.config.ts'), childScript, root, url, String(killAfterCommit)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /SWEPT (\d+)\nRECOVERED (\d+) REMOVED (\d+)\nMISSING (\d+) ORPHANS (\d+)\nLISTENING (\d+)/.exec(out);
      if (m) {
        const [swept, restored, removed, missing, orphans, port] = m.slice(1).map(Number) as [number, number, number, number, number, number];
        resolve({ proc, swept, restored, removed, missing, orphans, port });
      }
    });
    proc.once('exit', (code) => reject(new Error(`child exited ${code}: ${err.slice(-2000)}`)));
  });
}

/**
 * Sends files with storescu -v; `onAck` sees the running count of success responses. Returns the
 * files whose C-STORE-RSP was Success (storescu logs "Sending file" before each response).
 */
function sendAll(port: number, files: string[], onAck?: (acks: number) => void): Promise<{ acked: string[]; code: number | null }> {
  const proc = spawn('storescu', ['-v', '-aet', 'KILLSCU', '-aec', 'LDH_KILL', '-xe', '127.0.0.1', String(port), ...files], {
    env: { ...process.env, TCP_NODELAY: '1' },
  });
  const acked: string[] = [];
  let current: string | undefined;
  let buf = '';
  const onData = (d: Buffer): void => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const sending = /Sending file: (.+)$/.exec(line);
      if (sending) current = sending[1];
      if (/Received Store Response \(Success\)/.test(line) && current) {
        acked.push(current);
        current = undefined;
        onAck?.(acked.length);
      }
    }
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  return new Promise((resolve) => proc.once('close', (code) => resolve({ acked, code })));
}

async function listObjects(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(root, 'objects'), { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(`objects/${join(e.parentPath, e.name).slice(join(root, 'objects').length + 1)}`);
  }
  return out;
}

/** Writes `count` MR instances (size × size) of one new study into `dir`, in sending order. */
async function writeStudyFiles(dir: string, count: number, size: number): Promise<{ files: string[]; bySop: Map<string, Buffer>; sopByFile: Map<string, string> }> {
  const study = newUid();
  const series = newUid();
  const out = { files: [] as string[], bySop: new Map<string, Buffer>(), sopByFile: new Map<string, string>() };
  for (let i = 0; i < count; i++) {
    const sop = newUid();
    const buf = buildTestMrInstance({ rows: size, columns: size, instanceNumber: i + 1, studyInstanceUid: study, seriesInstanceUid: series, sopInstanceUid: sop });
    const f = join(dir, `i${String(i).padStart(3, '0')}.dcm`);
    await writeFile(f, buf);
    out.files.push(f);
    out.bySop.set(sop, buf);
    out.sopByFile.set(f, sop);
  }
  return out;
}

describe('ingest survives kill -9', () => {
  let dir: string;
  let root: string;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: Db;
  let files: string[] = [];
  let bySop = new Map<string, Buffer>();
  let sopByFile = new Map<string, string>();
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ldh-kill-'));
    root = join(dir, 'store');
    scratch = await createScratchDatabase(adminUrl, 'ldh_kill');
    db = createDb(scratch.url);
    ({ files, bySop, sopByFile } = await writeStudyFiles(dir, N, 512));
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await db?.$disconnect();
    await scratch?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged instance, and converges after restart and resend', async () => {
    const first = await startChild(root, scratch.url);
    children.push(first.proc);
    const exited = new Promise((r) => first.proc.once('exit', r));
    const sent = await sendAll(first.port, files, (acks) => {
      // A few ms after an ACK the next dataset is usually mid-transfer: that is where to kill.
      if (acks === KILL_AFTER_ACKS) setTimeout(() => first.proc.kill('SIGKILL'), 3);
    });
    await exited;
    expect(sent.code).not.toBe(0); // the association died under storescu
    expect(sent.acked.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(sent.acked.length).toBeLessThan(N);

    // Every instance ACKed before the kill: a committed row, and its file with the right bytes.
    for (const f of sent.acked) {
      const sentBuf = await readFile(f);
      const sop = [...bySop.entries()].find(([, b]) => b.equals(sentBuf))![0];
      const row = await db.instance.findFirst({ where: { sopInstanceUid: sop } });
      expect(row, `row for ${sop}`).not.toBeNull();
      const stored = await readFile(join(root, ...row!.storageKey.split('/')));
      expect(sha(stored)).toBe(row!.sha256);
      expect(datasetOf(stored).equals(datasetOf(sentBuf))).toBe(true);
    }

    // A power cut (unlike kill -9) can also lose renames whose directory fsync was still in the
    // background batch: the file is then back under its staging name. Recreate that state for
    // the last acknowledged instances, plus a complete staging file that was never recorded.
    const deadPid = first.proc.pid!;
    const rolledBack = sent.acked.slice(-5);
    for (const [i, f] of rolledBack.entries()) {
      const row = await db.instance.findFirstOrThrow({ where: { sopInstanceUid: sopByFile.get(f) } });
      await rename(join(root, ...row.storageKey.split('/')), join(root, 'staging', `${deadPid}-${i.toString(16).padStart(4, '0')}.stage`));
    }
    await writeFile(join(root, 'staging', `${deadPid}-ffff.stage`), Buffer.from('complete bytes, never recorded'));

    // Restart: the sweep clears temp files of the killed writer, staging recovery restores the
    // recorded objects and deletes the rest; then resend everything.
    const second = await startChild(root, scratch.url);
    children.push(second.proc);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    expect(await readdir(join(root, 'staging')).then((names) => names.filter((n) => !n.startsWith(`${second.proc.pid}-`)))).toEqual([]);
    // At least those: a write whose row committed just before the kill, ahead of its rename, is restored too.
    expect(second.restored).toBeGreaterThanOrEqual(rolledBack.length);
    // The row of the instance in flight at the kill may have committed (the commit runs alongside
    // the file write) without its file: never acknowledged, marked missing, healed by the resend.
    expect(second.missing).toBeLessThanOrEqual(1);
    const marked = await db.instance.findMany({ where: { fileMissingAt: { not: null } }, select: { sopInstanceUid: true } });
    expect(marked).toHaveLength(second.missing);
    const ackedSops = new Set(sent.acked.map((f) => sopByFile.get(f)));
    for (const m of marked) expect(ackedSops.has(m.sopInstanceUid)).toBe(false);
    expect(second.removed).toBeGreaterThanOrEqual(1);
    for (const f of sent.acked) {
      const row = await db.instance.findFirstOrThrow({ where: { sopInstanceUid: sopByFile.get(f) } });
      expect(sha(await readFile(join(root, ...row.storageKey.split('/'))))).toBe(row.sha256);
    }
    const orphansBeforeResend = (await listObjects(root)).length - (await db.instance.count());
    console.info(
      `kill -9 after ${sent.acked.length} ACKs; restart swept ${second.swept} temp file(s), restored ${second.restored} and removed ${second.removed} staging file(s); ` +
        `${orphansBeforeResend} un-ACKed object(s) without a row before the resend (${second.orphans} kept by reconciliation: younger than its grace period)`,
    );
    const resent = await sendAll(second.port, files);
    expect(resent.code).toBe(0);
    expect(resent.acked).toHaveLength(N);

    const rows = await db.instance.findMany({ select: { sopInstanceUid: true, sha256: true, storageKey: true } });
    expect(new Set(rows.map((r) => r.sopInstanceUid)).size).toBe(N);
    expect(rows).toHaveLength(N); // resent identical bytes were duplicates, not new versions
    const keys = new Set(rows.map((r) => r.storageKey));
    const objects = await listObjects(root);
    expect(objects.filter((o) => !keys.has(o))).toEqual([]); // no file under objects/ without a row
    expect(objects).toHaveLength(N);
    for (const r of rows) {
      const stored = await readFile(join(root, ...r.storageKey.split('/')));
      expect(sha(stored)).toBe(r.sha256);
      expect(datasetOf(stored).equals(datasetOf(bySop.get(r.sopInstanceUid)!))).toBe(true);
    }
    expect(await db.instance.count({ where: { fileMissingAt: { not: null } } })).toBe(0);
    const study = await db.study.findFirstOrThrow();
    expect(study.instanceCount).toBe(N);
    expect(study.state).toBe('receiving'); // failed for a missing file at most, and reopened by the resend
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    // Staging holds only the new process's pool of empty files.
    for (const name of await readdir(join(root, 'staging'))) expect((await readFile(join(root, 'staging', name))).length).toBe(0);

    second.proc.kill('SIGTERM');
    await new Promise((r) => second.proc.once('exit', r));
  });
});

describe('kill -9 after the row committed but before the file was written', () => {
  const COUNT = 12;
  const KILL_AT = 5; // the 5th instance: committed, never written, never ACKed
  let dir: string;
  let root: string;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: Db;
  let files: string[] = [];
  let sopByFile = new Map<string, string>();
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ldh-kill-commit-'));
    root = join(dir, 'store');
    scratch = await createScratchDatabase(adminUrl, 'ldh_kill_commit');
    db = createDb(scratch.url);
    ({ files, sopByFile } = await writeStudyFiles(dir, COUNT, 128));
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await db?.$disconnect();
    await scratch?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves a committed, never-acknowledged row without a file; restart marks it and the resend heals it', async () => {
    const first = await startChild(root, scratch.url, KILL_AT);
    children.push(first.proc);
    const exited = new Promise((r) => first.proc.once('exit', r));
    const sent = await sendAll(first.port, files);
    await exited;
    expect(sent.acked).toEqual(files.slice(0, KILL_AT - 1));
    const lostSop = sopByFile.get(files[KILL_AT - 1]!)!;
    const lost = await db.instance.findFirstOrThrow({ where: { sopInstanceUid: lostSop } });
    expect(await readFile(join(root, ...lost.storageKey.split('/'))).catch(() => null)).toBeNull();

    // Restart: reconciliation marks the row and fails the (unclassified) study, so it is never
    // processed with a hole; the staging files (empty: the write never ran) are removed.
    const second = await startChild(root, scratch.url);
    children.push(second.proc);
    expect(second.restored).toBe(0);
    expect(second.missing).toBe(1);
    expect((await db.instance.findFirstOrThrow({ where: { sopInstanceUid: lostSop } })).fileMissingAt).not.toBeNull();
    const failed = await db.study.findFirstOrThrow();
    expect(failed.state).toBe('failed');
    expect(failed.stateReason).toMatch(/^instance file missing/);

    // The sender retries everything it was not told succeeded (here: resends all).
    const resent = await sendAll(second.port, files);
    expect(resent.code).toBe(0);
    expect(resent.acked).toHaveLength(COUNT);
    const healed = await db.instance.findFirstOrThrow({ where: { sopInstanceUid: lostSop } });
    expect(healed.fileMissingAt).toBeNull();
    expect(sha(await readFile(join(root, ...healed.storageKey.split('/'))))).toBe(healed.sha256);
    expect(await db.instance.count()).toBe(COUNT);
    const study = await db.study.findFirstOrThrow();
    expect(study.state).toBe('receiving');
    expect(study.revision).toBe(failed.revision + 1);
    const actions = (await listStudyAudit(db, study.studyInstanceUid)).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['instance.file-missing', 'study.failed', 'instance.file-restored', 'study.reopened']));

    second.proc.kill('SIGTERM');
    await new Promise((r) => second.proc.once('exit', r));
  });
});
