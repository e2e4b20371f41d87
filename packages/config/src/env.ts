import { z } from 'zod';

/** Thrown when the environment is invalid; the message names every bad variable and why. */
export class EnvError extends Error {
  constructor(public readonly issues: Array<{ variable: string; message: string }>) {
    super(`Invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

/**
 * Parse `source` (normally process.env, passed in by an app's env.ts) with a zod object schema,
 * once, at start-up. Empty strings count as unset so `FOO=` falls back to the default.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, source: Record<string, string | undefined>): z.infer<S> {
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) if (v !== undefined && v !== '') cleaned[k] = v;
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new EnvError(
      result.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? '?'), message: issue.message })),
    );
  }
  return result.data;
}

const boolString = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

/** DICOM AE title: 1-16 characters of the default repertoire, no backslash (PS3.5 6.2). */
export const AE_TITLE_PATTERN = /^[\x20-\x5b\x5d-\x7e]{1,16}$/;

/** Reusable field definitions so every app spells a variable the same way. */
export const envFields = {
  databaseUrl: z.url({ protocol: /^postgres(ql)?$/, message: 'must be a postgres:// or postgresql:// URL' }),
  redisUrl: z.url({ protocol: /^rediss?$/, message: 'must be a redis:// or rediss:// URL' }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  port: z.coerce.number().int().min(0).max(65535),
  aeTitle: z
    .string()
    .regex(AE_TITLE_PATTERN, 'must be 1-16 printable ASCII characters without backslash')
    .refine((v) => v.trim().length > 0, 'must not be blank'),
  positiveInt: z.coerce.number().int().positive(),
  boolean: boolString,
  /** A bind address: an IPv4/IPv6 literal or a host name (no scheme, no port). */
  host: z.string().regex(/^[A-Za-z0-9.:_-]{1,253}$/, 'must be an IP address or host name (no scheme or port)'),
  queuePrefix: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits, _ . : - only').default('ldh'),
};

/** Shared defaults (documented in the README's configuration table). */
export const defaults = {
  scpPort: 11112,
  aeTitle: 'LDH_TRIAGE',
  quietPeriodMs: 15_000,
  /** Short quiet period after which a study holding all three roles settles early (0: timer only). */
  earlySettleMs: 3_000,
  storageDir: '.ldh/storage',
  /** /metrics, /healthz, /readyz (LDH_HTTP_PORT): the port Prometheus exporters conventionally use for OpenTelemetry/Prometheus. */
  httpPort: 9464,
  /** All interfaces: Prometheus and Kubernetes probes reach the endpoints from outside the process's host/pod. */
  httpHost: '0.0.0.0',
} as const;

/**
 * Variables every service role reads (database, queue, logs, storage); each role's schema
 * spreads this and adds its own.
 */
export const serviceEnvShape = {
  DATABASE_URL: envFields.databaseUrl,
  REDIS_URL: envFields.redisUrl.default('redis://127.0.0.1:6379'),
  LOG_LEVEL: envFields.logLevel,
  LDH_QUEUE_PREFIX: envFields.queuePrefix,
  LDH_STORAGE_DIR: z.string().default(defaults.storageDir),
  /** Port of /metrics, /healthz, /readyz (one per process, shared by the roles of `ldh serve`); 0 = any free port. */
  LDH_HTTP_PORT: envFields.port.default(defaults.httpPort),
  LDH_HTTP_HOST: envFields.host.default(defaults.httpHost),
};
