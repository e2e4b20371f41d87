// Our storage SCP as a separate process for the ingest benchmark (so its RSS is its own):
// durable path = fsync'ed content-addressed file + Postgres row before each ACK.
// argv: <storeRoot> <databaseUrl> [--max-pdu <bytes>] [--timings]; prints "LISTENING <port> MAXPDU <bytes>";
// SIGTERM closes cleanly. With --timings, SIGUSR2 prints "TIMINGS <json>" (per-step medians of
// the instances stored since the last SIGUSR2, from the SCP's debug log) and starts over.
import { createLogger } from '@ldh/config';
import { createStoreScp } from '@ldh/dicom';
import { createInstanceStore } from '@ldh/storage';
import { createDb, createIngestSink, referencedSha256s } from '@ldh/db';

const [rootDir, databaseUrl, ...rest] = process.argv.slice(2);
const flag = (name) => rest.indexOf(`--${name}`);
const maxPduLength = flag('max-pdu') >= 0 ? Number(rest[flag('max-pdu') + 1]) : undefined;
const timings = flag('timings') >= 0;

/** Per-step durations (ms) of each stored instance, collected from the debug log lines. */
let steps = [];
const destination = {
  write(line) {
    const entry = JSON.parse(line);
    if (entry.msg === 'instance stored' && entry.ms) steps.push(entry.ms);
    else if (entry.level >= 40) process.stderr.write(line);
  },
};
const logger = createLogger('bench-scp', { level: timings ? 'debug' : 'warn' }, destination);
const store = await createInstanceStore({ rootDir });
const db = createDb(databaseUrl);
// Staging files of a killed predecessor: restore what a row references, delete the rest.
await store.recoverStaging((shas) => referencedSha256s(db, shas));
const sink = createIngestSink(db, { actor: `bench:${process.pid}`, databaseUrl });
const scp = createStoreScp({
  aeTitle: 'LDH',
  host: '127.0.0.1',
  port: 0,
  store,
  sink,
  logger,
  maxAssociations: 16,
  ...(maxPduLength ? { maxPduLength } : {}),
});
const { port } = await scp.listen();
process.stdout.write(`LISTENING ${port} MAXPDU ${scp.maxPduLength}\n`);
process.on('SIGUSR2', () => {
  const summary = { instances: steps.length };
  for (const key of new Set(steps.flatMap((s) => Object.keys(s)))) {
    const xs = steps.map((s) => s[key]).filter((x) => x !== undefined).sort((a, b) => a - b);
    summary[key] = { p50: xs[Math.floor(xs.length / 2)], p90: xs[Math.floor(xs.length * 0.9)] };
  }
  steps = [];
  process.stdout.write(`TIMINGS ${JSON.stringify(summary)}\n`);
});
process.on('SIGTERM', () => {
  void scp
    .close()
    .then(() => sink.close())
    .then(() => store.close())
    .then(() => db.$disconnect())
    .then(() => process.exit(0));
});
