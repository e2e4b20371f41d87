/**
 * `ldh doctor [--fix] [--json]`: every study in a non-terminal state (settled, routed,
 * inferring, reporting) with neither a live BullMQ job nor a pending job intent, every
 * delivering study with no delivery left to send, and every receiving study quiet for more than
 * 10× LDH_QUIET_PERIOD_MS (reported only) — what the reconciler of @ldh/pipeline finds. With --fix, each one's intent is created or re-armed (the
 * dispatcher of a running `ldh serve` sends it; doctor also dispatches it at once), or the study
 * is failed with the reason when it cannot proceed; a delivering one is settled (done or
 * delivery_failed). failed, delivery_failed, done and skipped are terminal.
 */
import { Command } from 'commander';
import { z } from 'zod';
import { defaults, envFields, parseEnv, createLogger } from '@ldh/config';
import { createDb } from '@ldh/db';
import { closePipelineQueues, createPipelineQueues, dispatchPendingIntents, reconcileStudies, type StuckStudy } from '@ldh/pipeline';
import { createRedis } from '@ldh/queue';

const doctorEnvSchema = z.object({
  DATABASE_URL: envFields.databaseUrl,
  REDIS_URL: envFields.redisUrl.default('redis://127.0.0.1:6379'),
  LDH_QUEUE_PREFIX: envFields.queuePrefix,
  LDH_QUIET_PERIOD_MS: envFields.positiveInt.default(defaults.quietPeriodMs),
});

/** Text view: one line per stuck study (UIDs and states only, no PHI). */
export function formatDoctor(found: StuckStudy[], fix: boolean): string {
  if (found.length === 0) return 'no stuck study: every non-terminal study has a live job, a pending intent or a delivery left to send\n';
  const lines = found.map((f) => `${f.studyInstanceUid}  ${f.state} (rev ${f.revision})  ${f.problem}: ${f.detail}${f.action ? `  → ${f.action}` : ''}`);
  const repairable = found.filter((f) => f.problem !== 'not-settling').length;
  const reportOnly = found.length - repairable;
  lines.push(
    `${found.length} stuck stud${found.length === 1 ? 'y' : 'ies'}` +
      (repairable > 0 ? (fix ? `, ${repairable} repaired` : '; run `ldh doctor --fix` to repair') : '') +
      (reportOnly > 0 ? `; ${reportOnly} not settling (the settler's job: check that ldh serve / scp runs)` : ''),
  );
  return `${lines.join('\n')}\n`;
}

/** Run the check (and the repair) against the configured Postgres and Redis. */
export async function runDoctor(env: Record<string, string | undefined>, opts: { fix: boolean; json: boolean; minAgeMs?: number }): Promise<{ output: string; found: StuckStudy[] }> {
  const e = parseEnv(doctorEnvSchema, env);
  const db = createDb(e.DATABASE_URL);
  const redis = createRedis(e.REDIS_URL);
  const queues = createPipelineQueues({ connection: redis, prefix: e.LDH_QUEUE_PREFIX });
  const logger = createLogger('ldh-doctor', { level: 'silent' });
  try {
    const found = await reconcileStudies({ db, queues, logger, actor: `doctor@cli:${process.pid}` }, { fix: opts.fix, minAgeMs: opts.minAgeMs ?? 5_000, quietPeriodMs: e.LDH_QUIET_PERIOD_MS });
    if (opts.fix && found.length > 0) await dispatchPendingIntents({ db, queues, logger });
    return { output: opts.json ? `${JSON.stringify(found, null, 2)}\n` : formatDoctor(found, opts.fix), found };
  } finally {
    await closePipelineQueues(queues);
    redis.disconnect();
    await db.$disconnect();
  }
}

export function doctorCommand(env: Record<string, string | undefined>): Command {
  return new Command('doctor')
    .description('list studies stuck in a non-terminal state with no live job and no pending intent (needs DATABASE_URL, REDIS_URL)')
    .option('--fix', 're-create the next job of each stuck study, or fail it with the reason when it cannot proceed', false)
    .option('--json', 'print the findings as JSON', false)
    .action(async (opts: { fix: boolean; json: boolean }) => {
      const { output, found } = await runDoctor(env, opts);
      process.stdout.write(output);
      // Stuck studies found and not repaired: a non-zero exit for scripts and monitoring.
      if (!opts.fix && found.length > 0) process.exitCode = 2;
    });
}
