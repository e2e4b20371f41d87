import { pino, type Logger, type LoggerOptions } from 'pino';

/**
 * Keys that may carry PHI. Any log field with one of these names (at any depth pino's
 * redaction reaches) is censored, so a careless `log.info({ dataset })` cannot leak a name.
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
export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  return pino({
    name,
    level: options.level ?? 'info',
    base: { name, pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...options,
  });
}

export type { Logger } from 'pino';
