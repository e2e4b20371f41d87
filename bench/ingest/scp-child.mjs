// Our storage SCP as a separate process for the ingest benchmark (so its RSS is its own):
// durable path = fsync'ed content-addressed file + Postgres row before each ACK.
// argv: <storeRoot> <databaseUrl> [--max-pdu <bytes>] [--timings] [--raw]; prints "LISTENING <port> MAXPDU <bytes>";
// SIGTERM closes cleanly. With --timings, SIGUSR2 prints "TIMINGS <json>" (per-step medians of
// the instances stored since the last SIGUSR2, from the SCP's debug log) and starts over. With
// --raw (implies --timings) it prints "RAW <json>" instead: every instance's steps and the time
// its log line was written (`at`, ms since this process started), the GC pauses and the
// event-loop delay histogram over the same span (for `latency.mjs`).
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { createLogger } from '@ldh/config';
import { createStoreScp } from '@ldh/dicom';
import { createInstanceStore } from '@ldh/storage';
import { createDb, createIngestSink, referencedSha256s } from '@ldh/db';

const [rootDir, databaseUrl, ...rest] = process.argv.slice(2);
const flag = (name) => rest.indexOf(`--${name}`);
const maxPduLength = flag('max-pdu') >= 0 ? Number(rest[flag('max-pdu') + 1]) : undefined;
const raw = flag('raw') >= 0;
const timings = raw || flag('timings') >= 0;

/** Per-step durations (ms) of each stored instance, collected from the debug log lines. */
let steps = [];
const destination = {
  write(line) {
    const entry = JSON.parse(line);
    if (entry.msg === 'instance stored' && entry.ms) steps.push(raw ? { ...entry.ms, at: +performance.now().toFixed(3) } : entry.ms);
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
let gcs = [];
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
if (raw) {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ at: +e.startTime.toFixed(3), ms: +e.duration.toFixed(3), kind: e.detail?.kind });
  }).observe({ entryTypes: ['gc'] });
  loopDelay.enable();
}
process.on('SIGUSR2', () => {
  if (raw) {
    const q = (p) => +(loopDelay.percentile(p) / 1e6).toFixed(3);
    const eventLoopDelayMs = { p50: q(50), p90: q(90), p99: q(99), max: +(loopDelay.max / 1e6).toFixed(3), mean: +(loopDelay.mean / 1e6).toFixed(3) };
    process.stdout.write(`RAW ${JSON.stringify({ steps, gcs, eventLoopDelayMs })}\n`);
    steps = [];
    gcs = [];
    loopDelay.reset();
    return;
  }
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
