import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** dcmjs-dimse is a CommonJS bundle; load it once, typed from its own declarations. */
export const dimse = require('dcmjs-dimse') as typeof import('dcmjs-dimse');

let quieted = false;
/** dcmjs-dimse logs at trace by default (and may log datasets): keep it at warn. */
export function quietDimseLogs(): void {
  if (quieted) return;
  quieted = true;
  dimse.log.setLevel('warn');
}
