import { createRequire } from 'node:module';
import { createLogger, type Logger } from '@ldh/config';

const require = createRequire(import.meta.url);

/** dcmjs-dimse is a CommonJS bundle; load it once, typed from its own declarations. */
export const dimse = require('dcmjs-dimse') as typeof import('dcmjs-dimse');

/** Where dcmjs-dimse's own log lines go: the SCP's logger once routed, stderr JSON before that. */
let target: Logger | null = null;
let routed = false;

const LEVELS: Record<string, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = { trace: 'trace', debug: 'debug', info: 'info', log: 'info', warn: 'warn', error: 'error' };

/**
 * dcmjs-dimse logs through loglevel (plain text, "... -- ERROR -- ...", trace level by default,
 * datasets at info). Keep it at warn and send what remains through pino as JSON, so every log
 * line of the process is one JSON object. The message text is dcmjs-dimse's (protocol events,
 * never datasets at warn and above).
 */
export function quietDimseLogs(logger?: Logger): void {
  if (logger) target = logger.child({ component: 'dcmjs-dimse' });
  if (routed) return;
  routed = true;
  const log = dimse.log as unknown as {
    methodFactory: (method: string, level: number, name: string | symbol | undefined) => (...args: unknown[]) => void;
    setLevel(level: string): void;
  };
  log.methodFactory = (method) => {
    const level = LEVELS[method] ?? 'info';
    return (...args: unknown[]) => {
      target ??= createLogger('dcmjs-dimse', { level: 'warn' }, process.stderr);
      const text = args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : String(a))).join(' ');
      target[level](text);
    };
  };
  // setLevel rebuilds the methods through the new factory.
  log.setLevel('warn');
}
