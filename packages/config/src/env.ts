import { z } from 'zod';

/** Thrown when the environment is invalid; the message names every bad variable and why. */
export class EnvError extends Error {
  constructor(public readonly issues: EnvIssue[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

export interface EnvIssue {
  variable: string;
  message: string;
}

/** A check over the whole (cleaned) environment that a per-field schema cannot express. */
export type EnvCheck = (cleaned: Record<string, string>) => EnvIssue[];

/**
 * Parse `source` (normally process.env, passed in by an app's env.ts) with a zod object schema,
 * once, at start-up. Empty strings count as unset so `FOO=` falls back to the default. Every
 * problem is reported at once, each with what was expected and what was given; `checks` add
 * cross-variable rules (TLS all-or-nothing) that run even when a field is bad.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, source: Record<string, string | undefined>, checks: EnvCheck[] = []): z.infer<S> {
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) if (v !== undefined && v !== '') cleaned[k] = v;
  const extra = checks.flatMap((check) => check(cleaned));
  const result = schema.safeParse(cleaned);
  const issues = result.success ? [] : result.error.issues.map((issue) => describeIssue(issue, cleaned));
  const all = dedupeIssues([...issues, ...extra]);
  if (all.length > 0) throw new EnvError(all);
  return result.data as z.infer<S>;
}

/** Merge issue lists (several roles read the same variable) without repeating a line. */
export function dedupeIssues(issues: EnvIssue[]): EnvIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.variable}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A value as it may appear in an error: secrets hidden, URL passwords masked. */
function shown(variable: string, value: string): string {
  if (/PASSWORD|SECRET|TOKEN/i.test(variable)) return '***';
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@]*@/i, '$1:***@');
}

/** zod's wording ("expected number, received NaN") rewritten as "expected ..., got 'abc'". */
function describeIssue(issue: z.core.$ZodIssue, cleaned: Record<string, string>): EnvIssue {
  const variable = String(issue.path[0] ?? '?');
  const given = Object.prototype.hasOwnProperty.call(cleaned, variable) ? cleaned[variable] : undefined;
  const got = given === undefined ? 'it is unset' : `got '${shown(variable, given)}'`;
  let message = issue.message;
  if (issue.code === 'invalid_value') message = `expected one of ${issue.values.map(String).join(', ')}, ${got}`;
  else if (issue.code === 'invalid_type' && given === undefined) message = 'required, but unset';
  else if (issue.code === 'invalid_type') message = `expected ${issue.expected === 'number' ? 'a number' : issue.expected}, ${got}`;
  else if (issue.code === 'too_small' || issue.code === 'too_big') message = `${message.replace(/^Too (small|big): /, '')}, ${got}`;
  else if (given !== undefined && !message.includes('got ')) message = `${message}, ${got}`;
  return { variable, message };
}

/**
 * TLS is all or nothing: a certificate needs its key (and the reverse), and a CA alone (which
 * asks for client certificates) needs both. A half-configured TLS never falls back to plain TCP.
 */
export function tlsAllOrNothing(vars: { cert: string; key: string; ca?: string }): EnvCheck {
  return (e) => {
    const has = (k: string | undefined) => k !== undefined && e[k] !== undefined;
    const issues: EnvIssue[] = [];
    if (has(vars.cert) && !has(vars.key)) issues.push({ variable: vars.key, message: `required with ${vars.cert} (TLS needs the certificate and its key), but unset` });
    if (has(vars.key) && !has(vars.cert)) issues.push({ variable: vars.cert, message: `required with ${vars.key} (TLS needs the certificate and its key), but unset` });
    if (vars.ca && has(vars.ca) && !has(vars.cert) && !has(vars.key)) {
      issues.push({ variable: vars.ca, message: `set without ${vars.cert} and ${vars.key}: a CA alone does not enable TLS (set all three, or unset it)` });
    }
    return issues;
  };
}

/** An integer in [min, max] with a message that says what was expected and what was given. */
export function integerIn(min: number, max: number, expected: string) {
  return z.union([z.string(), z.number()]).transform((v, ctx) => {
    const text = String(v).trim();
    const n = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `expected ${expected}, got '${String(v)}'` });
      return z.NEVER;
    }
    return n;
  });
}

const boolString = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

/** DICOM AE title: 1-16 characters of the default repertoire, no backslash (PS3.5 6.2). */
export const AE_TITLE_PATTERN = /^[\x20-\x5b\x5d-\x7e]{1,16}$/;

/** pino's levels, in order; LOG_LEVEL must be one of them. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Reusable field definitions so every app spells a variable the same way. */
export const envFields = {
  databaseUrl: z.url({ protocol: /^postgres(ql)?$/, message: 'must be a postgres:// or postgresql:// URL' }),
  redisUrl: z.url({ protocol: /^rediss?$/, message: 'must be a redis:// or rediss:// URL' }),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  port: integerIn(0, 65535, 'an integer port 0-65535'),
  aeTitle: z
    .string()
    .regex(AE_TITLE_PATTERN, 'must be 1-16 printable ASCII characters without backslash')
    .refine((v) => v.trim().length > 0, 'must not be blank'),
  positiveInt: integerIn(1, Number.MAX_SAFE_INTEGER, 'a positive integer'),
  nonNegativeInt: integerIn(0, Number.MAX_SAFE_INTEGER, 'an integer >= 0'),
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
