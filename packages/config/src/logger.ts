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
