/**
 * The processes a chaos run drives: a private Redis (AOF on, so SIGKILL keeps its data), a
 * private Orthanc as the destination PACS (its storage survives a stop/start), and the three
 * `ldh serve` roles as separate child processes sharing one storage folder. Each can be killed
 * (SIGKILL of its own pid, never by name) and started again on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pingRedis } from '@ldh/queue';

export const ROLE_NAMES = ['scp', 'worker', 'writer'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} within ${timeoutMs} ms`);
}

/** A child process that can be started, killed and started again; keeps the tail of its output. */
export class ManagedProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private tail: string[] = [];
  /** Times the process exited without being asked to (a crash), with the output before it. */
  readonly crashes: string[] = [];
  private expectingExit = false;

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: string[],
    private readonly env: Record<string, string | undefined>,
    private readonly cwd?: string,
  ) {}

  get running(): boolean {
    return this.child !== null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last lines of output (stdout and stderr together). */
  logTail(lines = 40): string {
    return this.tail.slice(-lines).join('\n');
  }

  /** Output since the last start contains `text`. */
  private seen = '';
  saw(text: string): boolean {
    return this.seen.includes(text);
  }

  start(): void {
    if (this.child) throw new Error(`${this.name} is already running`);
    this.seen = '';
    this.expectingExit = false;
    const child = spawn(this.command, this.args, { env: this.env, cwd: this.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d: Buffer) => {
      const text = d.toString();
      if (this.seen.length < 1_000_000) this.seen += text;
      for (const line of text.split('\n')) if (line.trim()) this.tail.push(line.length > 600 ? `${line.slice(0, 600)}…` : line);
      if (this.tail.length > 400) this.tail.splice(0, this.tail.length - 200);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (!this.expectingExit) this.crashes.push(`${this.name} exited by itself (code ${code}, signal ${signal}):\n${this.logTail(30)}`);
        this.child = null;
        resolve();
      });
    });
    this.child = child;
  }

  /** Send `signal` to this process's own pid and wait until it has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.expectingExit = true;
    child.kill(signal);
    const timedOut = await Promise.race([this.exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), timeoutMs).unref())]);
    if (timedOut) {
      child.kill('SIGKILL');
      await this.exited;
    }
  }

  /** Wait until the output since the last start contains `text` (fails when the process exits first). */
  async waitForOutput(text: string, timeoutMs: number): Promise<void> {
    await waitUntil(
      () => {
        if (!this.child) throw new Error(`${this.name} exited before "${text}":\n${this.logTail(30)}`);
        return this.saw(text);
      },
      timeoutMs,
      `${this.name} did not print "${text}"`,
    );
  }
}

/** A private redis-server with an append-only file, on a fixed port so a restart keeps the URL. */
export class ChaosRedis {
  readonly url: string;
  private readonly proc: ManagedProcess;

  constructor(
    readonly port: number,
    dir: string,
  ) {
    mkdirSync(dir, { recursive: true });
    this.url = `redis://127.0.0.1:${port}`;
    this.proc = new ManagedProcess('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--dir', dir], { PATH: process.env.PATH });
  }

  get process(): ManagedProcess {
    return this.proc;
  }

  async start(): Promise<void> {
    this.proc.start();
    await waitUntil(() => pingRedis(this.url, 500), 20_000, 'redis-server did not answer PING');
  }

  async kill(): Promise<void> {
    await this.proc.stop('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.proc.stop('SIGTERM');
  }
}

/** A private Orthanc (destination PACS) whose storage and index survive a stop and start. */
export class ChaosOrthanc {
  readonly base: string;
  readonly aeTitle = 'ORTHANC';
  private readonly proc: ManagedProcess;

  constructor(
    readonly dicomPort: number,
    readonly httpPort: number,
    dir: string,
  ) {
    mkdirSync(dir, { recursive: true });
    const config = {
      Name: 'ldh-chaos-pacs',
      StorageDirectory: path.join(dir, 'storage'),
      IndexDirectory: path.join(dir, 'index'),
      DicomAet: this.aeTitle,
      DicomPort: dicomPort,
      HttpPort: httpPort,
      RemoteAccessAllowed: false,
      AuthenticationEnabled: false,
      DicomCheckCalledAet: true,
      Plugins: [],
    };
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    this.base = `http://127.0.0.1:${httpPort}`;
    this.proc = new ManagedProcess('orthanc', 'Orthanc', [path.join(dir, 'config.json')], { PATH: process.env.PATH, TCP_NODELAY: '1' });
  }

  get process(): ManagedProcess {
    return this.proc;
  }

  async start(): Promise<void> {
    this.proc.start();
    await waitUntil(async () => (await fetch(`${this.base}/system`).catch(() => null))?.ok === true, 30_000, 'Orthanc did not answer');
  }

  async stop(): Promise<void> {
    await this.proc.stop('SIGTERM');
  }

  private async json<T>(pathname: string, body?: unknown): Promise<T> {
    const r = await fetch(`${this.base}${pathname}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`Orthanc ${pathname}: HTTP ${r.status}`);
    return (await r.json()) as T;
  }

  /** SOP Instance UIDs of the SR instances Orthanc holds for a study (Orthanc keeps one copy per UID). */
  async srInstances(studyInstanceUid: string): Promise<string[]> {
    const ids = await this.json<string[]>('/tools/find', { Level: 'Study', Query: { StudyInstanceUID: studyInstanceUid } });
    const out: string[] = [];
    for (const id of ids) {
      const series = await this.json<Array<{ ID: string; MainDicomTags: { Modality?: string } }>>(`/studies/${id}/series`);
      for (const s of series.filter((x) => x.MainDicomTags.Modality === 'SR')) {
        const instances = await this.json<Array<{ MainDicomTags: { SOPInstanceUID?: string } }>>(`/series/${s.ID}/instances`);
        for (const i of instances) if (i.MainDicomTags.SOPInstanceUID) out.push(i.MainDicomTags.SOPInstanceUID);
      }
    }
    return out;
  }
}

/** One `ldh serve --role <role>` child process. */
export class RoleProcess {
  private readonly proc: ManagedProcess;

  constructor(
    readonly role: RoleName,
    cli: string,
    env: Record<string, string | undefined>,
  ) {
    this.proc = new ManagedProcess(role, process.execPath, [cli, 'serve', '--role', role], env);
  }

  get process(): ManagedProcess {
    return this.proc;
  }

  /** Start and wait for "ldh serving" (after start-up recovery, the SCP is listening). */
  async start(timeoutMs = 90_000): Promise<void> {
    this.proc.start();
    await this.proc.waitForOutput('ldh serving', timeoutMs);
  }

  async kill(): Promise<void> {
    await this.proc.stop('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.proc.stop('SIGTERM', 30_000);
  }
}
