import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createLogger } from '@ldh/config';
import { createDb, listStudyAudit, migrateDeploy, repoRoot } from '@ldh/db';
import { storeFiles } from '@ldh/dicom';
import { createObservability } from '@ldh/observability';
import { writePhantomDataset } from '@ldh/phantom';
import { deletePrefixKeys } from '@ldh/queue';
import { startScp, loadScpEnv } from '@ldh/scp';
import { startWorker, loadWorkerEnv } from '@ldh/worker';
import { startWriter, loadWriterEnv } from '@ldh/writer';
import { ensurePostgres, ensureRedis, freePort, startFolderDestination, startOrthanc, type DestinationService } from './services.js';
import { createProgressBar } from './progress.js';

export interface DemoOptions {
  json: boolean;
  seed?: number;
  levels?: string;
  timeoutMs: number;
  /** Folder for the embedded database and stored objects (default .ldh/demo under the repo). */
  workDir: string;
  /**
   * Use DATABASE_URL's server and REDIS_URL instead of private ones; even then the demo works in
   * its own database (`demoDatabase`) and queue prefix, and deletes that prefix's keys at the end.
   */
  useEnv?: boolean;
  /** The demo's own database on DATABASE_URL's server under useEnv (default ldh_demo). */
  demoDatabase?: string;
  env: Record<string, string | undefined>;
}

export interface DemoSummary {
  ok: boolean;
  studyUidHash: string;
  finalState: string;
  stateReason: string | null;
  states: Array<{ state: string; at: string; durationMs: number | null }>;
  model: { name: string; version: string; placeholder: boolean; provider: string; disclaimer: string } | null;
  probability: number | null;
  decision: string | null;
  threshold: number | null;
  srSopInstanceUid: string | null;
  kosSopInstanceUid: string | null;
  destination: { kind: string; aeTitle: string; location: string; srReceived: boolean } | null;
  instancesSent: number;
  services: { postgres: string; redis: string };
  truth: { label: string; levels?: string } | null;
  totalMs: number;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.dcm') ? [p] : [];
  });
}

/**
 * The whole product on one machine with nothing configured: database, queue, destination PACS,
 * a synthetic lumbar MRI sent over DICOM, inference, SR stored back — then a summary.
 */
export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const started = Date.now();
  const say = (m: string) => {
    if (!opts.json) process.stderr.write(`${m}\n`);
  };
  const cleanups: Array<() => Promise<void>> = [];
  const logLevel = opts.env.LOG_LEVEL ?? 'warn';
  try {
    // Private services unless asked (--use-env): DATABASE_URL / REDIS_URL in the environment are
    // someone's real servers, and the demo must not change what it does not own.
    if (opts.useEnv && (!opts.env.DATABASE_URL || !opts.env.REDIS_URL)) throw new Error('--use-env needs DATABASE_URL and REDIS_URL');
    const pg = await ensurePostgres(opts.useEnv ? { url: opts.env.DATABASE_URL!, demoDatabase: opts.demoDatabase ?? 'ldh_demo' } : null, path.join(opts.workDir, 'postgres'), say);
    cleanups.push(pg.stop);
    say(`postgres: ${pg.origin}`);
    await migrateDeploy(pg.url);
    const redis = await ensureRedis(opts.useEnv ? opts.env.REDIS_URL! : null, say);
    cleanups.push(redis.stop);
    say(`redis: ${redis.origin}`);
    const prefix = `ldh-demo-${process.pid}-${Date.now().toString(36)}`;
    // Registered before anything uses the prefix, run last (after the roles stopped): nothing of
    // this run stays in a shared Redis.
    if (opts.useEnv) cleanups.push(async () => void (await deletePrefixKeys(redis.url, prefix)));

    let dest: DestinationService | null = await startOrthanc();
    if (!dest) dest = await startFolderDestination(path.join(opts.workDir, 'received'));
    cleanups.push(dest.stop);
    say(`destination: ${dest.kind === 'orthanc' ? 'private Orthanc' : 'built-in storage SCP'} ${dest.aeTitle}@${dest.host}:${dest.port}`);

    const scpPort = await freePort();
    const common = {
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
      LOG_LEVEL: logLevel,
      LDH_QUEUE_PREFIX: prefix,
      LDH_STORAGE_DIR: path.join(opts.workDir, 'storage'),
      LDH_AE_TITLE: 'LDH_TRIAGE',
    };
    const db = createDb(pg.url);
    cleanups.push(() => db.$disconnect());
    // The roles share one in-memory registry and serve no HTTP endpoint: the demo is a one-shot run.
    const observability = createObservability({ defaultMetrics: false });
    // Logs go to stderr: stdout carries only the summary (and --json stays parseable).
    const logger = createLogger('ldh-demo', { level: logLevel as 'warn' }, pino.destination(2));
    const scp = await startScp(
      loadScpEnv({ ...common, LDH_SCP_HOST: '127.0.0.1', LDH_SCP_PORT: String(scpPort), LDH_ALLOWED_PEERS: 'LDH_DEMO@127.0.0.1', LDH_QUIET_PERIOD_MS: '2000', LDH_MIN_FREE_BYTES: String(256 * 1024 ** 2) }),
      { logger, db, observability },
    );
    cleanups.push(scp.stop);
    const worker = await startWorker(loadWorkerEnv({ ...common, ...(opts.env.LDH_MODEL_CARD ? { LDH_MODEL_CARD: opts.env.LDH_MODEL_CARD } : {}), LDH_EXECUTION_PROVIDER: opts.env.LDH_EXECUTION_PROVIDER }), { logger, db, observability });
    cleanups.push(worker.stop);
    const writer = await startWriter(loadWriterEnv({ ...common, LDH_DESTINATIONS: `demo-${dest.kind}=${dest.aeTitle}@${dest.host}:${dest.port}` }), { logger, db, observability });
    cleanups.push(writer.stop);
    // Only this run's destination receives this run's report: LDH_DESTINATIONS above names only
    // it, so the writer disabled earlier runs' demo destinations — in the demo's own database.
    say(`model: ${worker.model.card.name} ${worker.model.card.version}${worker.model.placeholder ? ' (PLACEHOLDER — scores are meaningless)' : ''}, provider ${worker.model.provider}`);

    const phantomDir = mkdtempSync(path.join(os.tmpdir(), 'ldh-demo-phantom-'));
    cleanups.push(async () => rmSync(phantomDir, { recursive: true, force: true }));
    const seed = opts.seed ?? (Date.now() % 1_000_000);
    const dataset = await writePhantomDataset({ outDir: phantomDir, count: 1, seed, ...(opts.levels ? { levels: opts.levels } : {}) });
    const study = dataset.studies[0]!;
    const toSend = files(study.dir).sort();
    say(`sending ${toSend.length} instances of a synthetic lumbar MRI (seed ${seed}, truth: ${study.label}) to LDH_TRIAGE@127.0.0.1:${scpPort}`);
    const bar = opts.json ? null : createProgressBar('C-STORE', toSend.length);
    const results = await storeFiles({ host: '127.0.0.1', port: scpPort, callingAeTitle: 'LDH_DEMO', calledAeTitle: 'LDH_TRIAGE' }, toSend, (done) => bar?.update(done));
    bar?.stop();
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0) throw new Error(`${failed.length} instances were not accepted (first status 0x${failed[0]!.status.toString(16)})`);

    // Wait for the study to reach a terminal state.
    const terminal = ['done', 'skipped', 'failed'];
    const deadline = Date.now() + opts.timeoutMs;
    let row = await db.study.findUnique({ where: { studyInstanceUid: study.studyInstanceUid } });
    while ((!row || !terminal.includes(row.state)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      row = await db.study.findUnique({ where: { studyInstanceUid: study.studyInstanceUid } });
    }
    if (!row) throw new Error('the study never reached the database');
    const audit = await listStudyAudit(db, study.studyInstanceUid);
    const stateEvents = audit.filter((a) => a.entityType === 'study');
    const states = stateEvents.map((a, i) => ({
      state: a.action.replace(/^study\./, ''),
      at: a.at.toISOString(),
      durationMs: stateEvents[i + 1] ? stateEvents[i + 1]!.at.getTime() - a.at.getTime() : null,
    }));
    const run = await db.inferenceRun.findFirst({ where: { studyId: row.id }, orderBy: { createdAt: 'desc' }, include: { modelVersion: true, report: true } });
    const srUid = run?.report?.srSopInstanceUid ?? null;
    const srReceived = srUid ? await dest.has(srUid) : false;
    return {
      ok: row.state === 'done' && srReceived,
      studyUidHash: createHash('sha256').update(study.studyInstanceUid).digest('hex').slice(0, 16),
      finalState: row.state,
      stateReason: row.stateReason,
      states,
      model: run
        ? {
            name: run.modelVersion.name,
            version: run.modelVersion.version,
            placeholder: run.modelVersion.placeholder,
            provider: run.provider ?? '?',
            disclaimer: String((run.modelVersion.card as { disclaimer?: unknown }).disclaimer ?? 'not for clinical use'),
          }
        : null,
      probability: run?.studyProbability ?? null,
      decision: run?.decision ?? null,
      threshold: run?.threshold ?? null,
      srSopInstanceUid: srUid,
      kosSopInstanceUid: run?.report?.kosSopInstanceUid ?? null,
      destination: { kind: dest.kind, aeTitle: dest.aeTitle, location: dest.location, srReceived },
      instancesSent: toSend.length,
      services: { postgres: pg.origin, redis: redis.origin },
      truth: { label: study.label, ...(opts.levels ? { levels: opts.levels } : {}) },
      totalMs: Date.now() - started,
    };
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}

/** Human-readable summary (the JSON form is the same object). */
export function formatSummary(s: DemoSummary): string {
  const lines = [
    '',
    `LDH triage demo — ${s.ok ? 'OK' : 'NOT OK'}   (research software, not a medical device)`,
    `  study (sha256 of UID)  ${s.studyUidHash}   ${s.instancesSent} instances sent`,
    `  final state            ${s.finalState}${s.stateReason ? ` (${s.stateReason})` : ''}`,
    '  states:',
    ...s.states.map((st) => `    ${st.state.padEnd(12)} ${st.at}${st.durationMs !== null ? `  +${st.durationMs} ms` : ''}`),
    `  model                  ${s.model ? `${s.model.name} ${s.model.version} on ${s.model.provider}${s.model.placeholder ? '  ** PLACEHOLDER MODEL: score is meaningless **' : ''}` : '-'}`,
    ...(s.model && !s.model.placeholder ? [`                         ${s.model.disclaimer}`] : []),
    `  score                  ${s.probability !== null ? `${(s.probability * 100).toFixed(1)}% → ${s.decision} (threshold ${s.threshold})` : '-'}`,
    `  ground truth (phantom) ${s.truth?.label ?? '-'}`,
    `  SR                     ${s.srSopInstanceUid ?? '-'}`,
    `  KOS                    ${s.kosSopInstanceUid ?? '- (only for positive studies)'}`,
    `  delivered to           ${s.destination ? `${s.destination.kind} ${s.destination.aeTitle} (${s.destination.location}): ${s.destination.srReceived ? 'SR received' : 'SR NOT received'}` : '-'}`,
    `  services               postgres: ${s.services.postgres}; redis: ${s.services.redis}`,
    `  total                  ${(s.totalMs / 1000).toFixed(1)} s`,
    '',
  ];
  return lines.join('\n');
}

export const defaultDemoDir = path.join(repoRoot, '.ldh', 'demo');
