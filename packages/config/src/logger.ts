import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * Keys that may carry PHI. Any log field with one of these names (at the depths pino's
 * redaction reaches) is censored, so a careless `log.info({ dataset })` cannot leak a name.
 * The first rule stays: log UIDs, hashes, counts and durations only.
 */
export const PHI_KEYS = [
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'PatientSex',
  'PatientAddress',
  'OtherPatientIDs',
  'OtherPatientNames',
  'PatientMotherBirthName',
  'ReferringPhysicianName',
  'AccessionNumber',
  'InstitutionName',
  'patientName',
  'patientId',
  'patientBirthDate',
  'birthDate',
] as const;

const REDACT_PATHS = PHI_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

/** Structured JSON logger with PHI redaction; every process creates its root logger here. */
export function createLogger(name: string, options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const opts: LoggerOptions = {
    name,
    level: options.level ?? 'info',
    base: { name, pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...options,
  };
  return destination ? pino(opts, destination) : pino(opts);
}

export type { Logger } from 'pino';

/** A log call that repeats at most once per interval per key (the rest are counted, not written). */
export type RateLimitedLog = (key: string, obj: Record<string, unknown>, msg: string) => void;

/**
 * Rate-limit a recurring failure (Redis refusing connections, a worker's reconnect loop): the
 * first occurrence of each key is logged at once, then at most one line per `intervalMs` that
 * says how many were suppressed in between. One clear line instead of a flood.
 */
export function rateLimitedLog(logger: Logger, opts: { intervalMs?: number; level?: 'warn' | 'error' } = {}): RateLimitedLog {
  const intervalMs = opts.intervalMs ?? 30_000;
  const level = opts.level ?? 'warn';
  const seen = new Map<string, { at: number; suppressed: number }>();
  return (key, obj, msg) => {
    const now = Date.now();
    const s = seen.get(key);
    if (s && now - s.at < intervalMs) {
      s.suppressed += 1;
      return;
    }
    logger[level]({ ...obj, ...(s && s.suppressed > 0 ? { suppressed: s.suppressed, sinceMs: now - s.at } : {}) }, msg);
    seen.set(key, { at: now, suppressed: 0 });
  };
}
