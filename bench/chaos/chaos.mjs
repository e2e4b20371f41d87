#!/usr/bin/env node
// `npm run chaos [-- --cycles 50 --seed 1 --faults kill-worker,redis-flush --outage-ms 8000]`:
// the chaos suite (see README.md here). Runs after a build; the logic lives in the CLI package
// (apps/cli/src/chaos/run.ts), which the short int test (apps/cli/src/chaos.int.test.ts) also uses.
// Prints the table and a final JSON line; exits 1 on any violation.
import { fileURLToPath } from 'node:url';
import { FAULTS, formatChaosTable, runChaos } from '../../apps/cli/dist/chaos/run.js';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]?.startsWith('--') ? '' : all[i + 1]]] : acc), []),
);
const int = (name, dflt, min) => {
  const v = args[name] === undefined ? dflt : Number(args[name]);
  if (!Number.isInteger(v) || v < min) {
    console.error(`--${name} must be an integer ≥ ${min}`);
    process.exit(2);
  }
  return v;
};
const faults = args.faults ? args.faults.split(',').map((f) => f.trim()) : [...FAULTS];
const unknown = faults.filter((f) => !FAULTS.includes(f));
if (unknown.length) {
  console.error(`unknown fault(s) ${unknown.join(', ')}; expected ${FAULTS.join(', ')}`);
  process.exit(2);
}
const result = await runChaos({
  cli: fileURLToPath(new URL('../../apps/cli/dist/main.js', import.meta.url)),
  repoRoot: fileURLToPath(new URL('../..', import.meta.url)),
  cycles: int('cycles', 50, 1),
  seed: int('seed', 1, 0),
  faults,
  order: args.order === 'round-robin' ? 'round-robin' : 'random',
  outageMs: int('outage-ms', 8000, 0),
  cycleTimeoutMs: int('cycle-timeout-ms', 180000, 1000),
  maxStudies: int('max-studies', 3, 1),
  adminUrl: args['database-url'] ?? process.env.LDH_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  log: (line) => console.error(line),
});
process.stdout.write(formatChaosTable(result));
process.exit(result.violations > 0 ? 1 : 0);
