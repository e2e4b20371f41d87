/**
 * `ldh serve`: the service roles in one process. Start-up in four steps, each with its own
 * failure: (1) every selected role's environment is validated at once (one message, exit 2);
 * (2) Postgres and Redis are awaited with backoff, one rate-limited line while they are down,
 * and a missing database or pending migrations end with a hint (exit 1); (3) the roles start,
 * downstream first; (4) only then "ldh serving". SIGTERM/SIGINT stop everything within
 * SHUTDOWN_BOUND_MS whatever is down.
 *
 * Roles are a list (SERVE_ROLES): a new role is one more entry with its loadEnv/start.
 */
import { createLogger, dedupeIssues, EnvError, envFields, parseEnv, rateLimitedLog, type EnvIssue, type Logger, type LogLevel } from '@ldh/config';
import { checkDatabase, createDatabaseOf, databaseName, migrateDeploy } from '@ldh/db';
import { processObservability, startHttpServer, type Observability } from '@ldh/observability';
import { pingRedis } from '@ldh/queue';
import { loadDashboardEnv, startDashboard } from '@ldh/dashboard';
import { loadScpEnv, startScp, type ScpEnv } from '@ldh/scp';
import { loadWorkerEnv, startWorker } from '@ldh/worker';
import { loadWriterEnv, startWriter } from '@ldh/writer';
import { z } from 'zod';
import { isScpClusterChild, leaveScpCluster, startScpCluster } from './scp-cluster.js';

/** What every role's start needs from the serve process. */
export interface ServeContext {
  logger: Logger;
  /** The process's one registry and readiness checks, served on one LDH_HTTP_PORT for all roles. */
  observability: Observability;
  /** A role that cannot go on (an SCP child process died): stop the whole process, exit code 1. */
  fatal(reason: string): void;
}

/** A started role: stop() stops accepting, drains, and closes its connections. */
export interface StartedRole {
  stop(): Promise<void>;
}

/** One role of `ldh serve`: how to read its environment, which services it needs, how to start it. */
export interface ServeRole<E = unknown> {
  name: string;
  /** Parse this role's variables; throws EnvError naming every bad one. */
  loadEnv(source: Record<string, string | undefined>): E;
  /** Postgres / Redis this role needs reachable before it starts (awaited with backoff). */
  needs(env: E): { databaseUrl?: string; redisUrl?: string };
  start(env: E, ctx: ServeContext): Promise<StartedRole>;
  /** Takes work from outside (a listener): stopped first, before the others stop in parallel. */
  stopsFirst?: boolean;
}

function role<E>(r: ServeRole<E>): ServeRole<unknown> {
  return r as unknown as ServeRole<unknown>;
}

/**
 * Every role `ldh serve` knows, in start order: downstream first, so the SCP never accepts work
 * nobody will process. Stop order is the reverse (listener first). Add new roles here.
 */
export const SERVE_ROLES: ServeRole<unknown>[] = [
  role({ name: 'writer', loadEnv: loadWriterEnv, needs: (e) => ({ databaseUrl: e.DATABASE_URL, redisUrl: e.REDIS_URL }), start: (e, ctx) => startWriter(e, { logger: ctx.logger.child({ role: 'writer' }), observability: ctx.observability }) }),
  role({ name: 'worker', loadEnv: loadWorkerEnv, needs: (e) => ({ databaseUrl: e.DATABASE_URL, redisUrl: e.REDIS_URL }), start: (e, ctx) => startWorker(e, { logger: ctx.logger.child({ role: 'worker' }), observability: ctx.observability }) }),
  role({ name: 'dashboard', loadEnv: loadDashboardEnv, needs: (e) => ({ databaseUrl: e.DATABASE_URL, redisUrl: e.REDIS_URL }), start: (e, ctx) => startDashboard(e, { logger: ctx.logger.child({ role: 'dashboard' }) }), stopsFirst: true }),
  role({ name: 'scp', loadEnv: loadScpEnv, needs: (e) => ({ databaseUrl: e.DATABASE_URL, redisUrl: e.REDIS_URL }), start: (e, ctx) => startScpRole(e, ctx), stopsFirst: true }),
];

/**
 * The SCP role: one listener in this process, or with LDH_SCP_PROCESSES > 1 that many child
 * processes on one port (scp-cluster.ts says why cluster and not SO_REUSEPORT on Node 20).
 */
async function startScpRole(e: ScpEnv, ctx: ServeContext): Promise<StartedRole> {
  const logger = ctx.logger.child({ role: 'scp' });
  if (e.LDH_SCP_PROCESSES > 1 && !isScpClusterChild()) {
    return startScpCluster(e.LDH_SCP_PROCESSES, ['serve', '--role', 'scp'], logger, () => ctx.fatal('scp process exited'));
  }
  return startScp(e, { logger, observability: ctx.observability });
}

/** Roles started when --role is not given. */
export const DEFAULT_ROLES = ['scp', 'worker', 'writer', 'dashboard'];

/** SIGTERM to exit, at most (roles get most of it; then the process exits regardless, code 1). */
export const SHUTDOWN_BOUND_MS = 10_000;

/** A usage error (unknown role, bad option): exit code 2 like a bad environment. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A start-up failure with a hint (missing database, pending migrations): exit code 1, no stack. */
export class StartupError extends Error {
  override name = 'StartupError';
}

const serveEnvSchema = z.object({ LOG_LEVEL: envFields.logLevel });

/**
 * Validate the selected roles' environments together: every bad variable of every role in one
 * EnvError (a variable shared by roles is reported once).
 */
export function loadServeEnvs(roleNames: string[], source: Record<string, string | undefined>): { logLevel: LogLevel; envs: Array<{ role: ServeRole<unknown>; env: unknown }> } {
  const unknown = roleNames.filter((r) => !SERVE_ROLES.some((x) => x.name === r));
  if (unknown.length > 0) throw new UsageError(`unknown role(s): ${unknown.join(', ')} (expected ${SERVE_ROLES.map((r) => r.name).join(', ')})`);
  if (roleNames.length === 0) throw new UsageError(`--role: no role given (expected ${SERVE_ROLES.map((r) => r.name).join(', ')})`);
  const issues: EnvIssue[] = [];
  let logLevel: LogLevel = 'info';
  try {
    logLevel = parseEnv(serveEnvSchema, source).LOG_LEVEL;
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    issues.push(...err.issues);
  }
  const envs: Array<{ role: ServeRole<unknown>; env: unknown }> = [];
  for (const r of SERVE_ROLES.filter((x) => roleNames.includes(x.name))) {
    try {
      envs.push({ role: r, env: r.loadEnv(source) });
    } catch (err) {
      if (!(err instanceof EnvError)) throw err;
      issues.push(...err.issues);
    }
  }
  if (issues.length > 0) throw new EnvError(dedupeIssues(issues));
  return { logLevel, envs };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

/** host:port of a URL, for log lines (never user or password). */
function where(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol.startsWith('redis') ? '6379' : '5432')}`;
}

/**
 * Wait until Postgres (existing, migrated) and Redis answer. While one is down: one line at
 * once, then at most one per 30 s (with the count of failed tries), retries backing off to 15 s.
 * Resolves false when `signal` aborts (SIGTERM while waiting).
 */
export async function waitForServices(urls: { databaseUrl?: string; redisUrl?: string }, opts: { logger: Logger; migrate: boolean; signal: AbortSignal; logIntervalMs?: number }): Promise<boolean> {
  const { logger, signal } = opts;
  const say = rateLimitedLog(logger, { intervalMs: opts.logIntervalMs ?? 30_000 });
  let delay = 500;
  let migrated = false;
  while (!signal.aborted) {
    let down = false;
    if (urls.databaseUrl) {
      const db = await checkDatabase(urls.databaseUrl);
      if (db.state === 'unreachable') {
        down = true;
        say('postgres', { service: 'postgres', at: where(urls.databaseUrl), reason: db.reason }, 'waiting for Postgres (not ready; retrying with backoff)');
      } else if (db.state === 'missing-database') {
        if (!opts.migrate) throw new StartupError(`database "${db.database}" does not exist on ${where(urls.databaseUrl)}: create it, or run \`ldh serve --migrate\` (creates it and applies the migrations)`);
        logger.info({ database: db.database }, 'creating the database (--migrate)');
        await createDatabaseOf(urls.databaseUrl);
        continue;
      } else if (db.state === 'unmigrated') {
        if (!opts.migrate || migrated) {
          throw new StartupError(`database "${databaseName(urls.databaseUrl)}" lacks ${db.pending.length} migration(s) (first: ${db.pending[0]}): run \`ldh serve --migrate\` once (or \`npx prisma migrate deploy\`)`);
        }
        logger.info({ pending: db.pending.length }, 'applying database migrations (--migrate)');
        await migrateDeploy(urls.databaseUrl);
        migrated = true;
        continue;
      }
    }
    if (urls.redisUrl && !(await pingRedis(urls.redisUrl, 2_000))) {
      down = true;
      say('redis', { service: 'redis', at: where(urls.redisUrl) }, 'waiting for Redis (not reachable; retrying with backoff)');
    }
    if (!down) return true;
    await sleep(delay, signal);
    delay = Math.min(delay * 2, 15_000);
  }
  return false;
}

/**
 * Run `ldh serve`. Resolves when the roles are serving (the process then lives on its listeners);
 * SIGTERM/SIGINT stop it within SHUTDOWN_BOUND_MS.
 */
export async function serve(opts: { roles: string[]; migrate: boolean; env: Record<string, string | undefined> }): Promise<void> {
  const { logLevel, envs } = loadServeEnvs(opts.roles, opts.env);
  const logger = createLogger('ldh', { level: logLevel });
  const abort = new AbortController();
  const started: Array<{ role: ServeRole<unknown>; running: StartedRole }> = [];
  let stopping = false;
  let closeHttp: () => Promise<void> = async () => undefined;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    abort.abort();
    logger.info({ signal }, 'shutting down');
    // Whatever hangs (a worker waiting on a dead Redis, a query on a dead Postgres), exit in time.
    setTimeout(() => {
      logger.error({ boundMs: SHUTDOWN_BOUND_MS }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, SHUTDOWN_BOUND_MS).unref();
    // Listeners first (the SCP drains its in-flight C-STOREs), then the other roles in parallel
    // (each closes its workers, queues, Redis and Postgres); parallel keeps us inside the bound.
    const stop = (r: (typeof started)[number]) => r.running.stop().catch((err: unknown) => logger.error({ role: r.role.name, err: (err as Error).message }, 'stop failed'));
    for (const r of started.filter((x) => x.role.stopsFirst)) await stop(r);
    await Promise.all(started.filter((x) => !x.role.stopsFirst).map(stop));
    await closeHttp().catch(() => undefined);
    leaveScpCluster();
    logger.info('stopped cleanly');
    // Everything is closed, so the event loop should be empty; a lingering handle must not keep us.
    setTimeout(() => process.exit(), 1_000).unref();
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  // One /metrics, /healthz, /readyz server for all roles, up before the services are awaited:
  // liveness answers at once, readiness says "starting" until every role has started.
  const observability = processObservability();
  const waiting = envs.map(({ role: r }) => observability.starting(`serve:${r.name}`));
  const httpEnv = envs[0]!.env as { LDH_HTTP_HOST: string; LDH_HTTP_PORT: number };
  // An SCP child of LDH_SCP_PROCESSES serves none: its listen() would go through the cluster
  // primary, whose own server already holds the port (the primary's /readyz covers the unit).
  if (!isScpClusterChild()) {
    const http = await startHttpServer({ host: httpEnv.LDH_HTTP_HOST, port: httpEnv.LDH_HTTP_PORT, registry: observability.registry, checks: observability.runReadiness });
    closeHttp = () => http.close();
    logger.info({ http: http.url }, 'metrics and health endpoints listening');
  }

  const urls = envs.map(({ role: r, env }) => r.needs(env));
  const databaseUrl = urls.find((u) => u.databaseUrl)?.databaseUrl;
  const redisUrl = urls.find((u) => u.redisUrl)?.redisUrl;
  const ready = await waitForServices({ ...(databaseUrl ? { databaseUrl } : {}), ...(redisUrl ? { redisUrl } : {}) }, { logger, migrate: opts.migrate, signal: abort.signal });
  if (!ready) return;
  for (const { role: r, env } of envs) {
    if (abort.signal.aborted) return;
    started.push({ role: r, running: await r.start(env, { logger, observability, fatal: (reason) => { if (!stopping) { process.exitCode = 1; void shutdown(reason); } } }) });
  }
  for (const done of waiting) done();
  if (abort.signal.aborted) return;
  logger.info({ roles: envs.map((e) => e.role.name) }, 'ldh serving');
}

