// Per-instance latency of our SCP at 1 association: the distribution (mean, p50/p90/p99/max) of
// the wall time between consecutive C-STORE responses and of each step, plus the GC pauses and
// the event-loop delay over the same span, and the slowest instances with their steps. Medians
// hide stalls; this shows where the mean goes. Run after a build:
//   node bench/ingest/latency.mjs [--instances 300] [--rounds 1] [--database-url <admin url>]
// Needs Postgres (a scratch database is created and dropped) and dcmtk storescu on PATH.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSet } from './instances.mjs';
import { createScratchDatabase } from '@ldh/db';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]?.startsWith('--') ? '' : all[i + 1]]] : acc), []),
);
const INSTANCES = Number(args.instances ?? 300);
const ROUNDS = Number(args.rounds ?? 1);
const ADMIN_URL = args['database-url'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const here = fileURLToPath(new URL('.', import.meta.url));

function storescu(port, files) {
  return new Promise((resolve, reject) => {
    const p = spawn('storescu', ['-aet', 'BENCHSCU', '-aec', 'LDH', '-xe', '127.0.0.1', String(port), ...files], {
      env: { ...process.env, TCP_NODELAY: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d) => (err += d.toString()));
    p.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`storescu exited ${code}: ${err.slice(-400)}`))));
  });
}

function stats(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(s.length * p))];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { n: s.length, mean, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: s[s.length - 1], sum: mean * s.length };
}

const work = await mkdtemp(join(tmpdir(), 'ldh-bench-latency-'));
const scratch = await createScratchDatabase(ADMIN_URL, 'ldh_bench');
const child = spawn(process.execPath, [join(here, 'scp-child.mjs'), join(work, 'store'), scratch.url, '--raw'], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
const rawWaiters = [];
const port = await new Promise((resolve, reject) => {
  child.stdout.on('data', (d) => {
    out += d.toString();
    const m = /LISTENING (\d+)/.exec(out);
    if (m) resolve(Number(m[1]));
    let t;
    while ((t = /RAW (.*)\n/.exec(out))) {
      out = out.slice(t.index + t[0].length);
      rawWaiters.shift()?.(JSON.parse(t[1]));
    }
  });
  child.once('exit', (c) => reject(new Error(`our SCP exited ${c}`)));
});
const dump = () =>
  new Promise((resolve) => {
    rawWaiters.push(resolve);
    child.kill('SIGUSR2');
  });

try {
  await storescu(port, await makeSet(join(work, 'warm'), 20));
  await dump();
  const keys = ['gap', 'sender', 'receive', 'wait', 'parse', 'write', 'place', 'commit', 'total'];
  const fmt = (x) => (x === undefined ? '-' : x.toFixed(2)).padStart(8);
  for (let round = 0; round < ROUNDS; round++) {
    const files = await makeSet(join(work, `set-${round}`), INSTANCES);
    const t0 = process.hrtime.bigint();
    await storescu(port, files);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const { steps, gcs, eventLoopDelayMs } = await dump();
    await rm(join(work, `set-${round}`), { recursive: true, force: true });
    // gap: wall time between this instance's response and the previous one's (the first has none).
    steps.forEach((s, i) => (s.gap = i > 0 ? s.at - steps[i - 1].at : undefined));
    console.log(`\nround ${round + 1}: ${steps.length} instances, 1 association, ${(INSTANCES / seconds).toFixed(1)}/s (${((seconds * 1000) / INSTANCES).toFixed(2)} ms per instance incl. association setup)`);
    console.log(`${'ms'.padEnd(9)}${['mean', 'p50', 'p90', 'p99', 'max'].map((h) => h.padStart(8)).join('')}`);
    for (const k of keys) {
      const st = stats(steps.map((s) => s[k]));
      console.log(`${k.padEnd(9)}${[st.mean, st.p50, st.p90, st.p99, st.max].map(fmt).join('')}`);
    }
    const span = steps.length > 1 ? steps[steps.length - 1].at - steps[0].at : 0;
    const inSpan = gcs.filter((g) => g.at >= steps[0].at && g.at <= steps[steps.length - 1].at);
    const gcSt = stats(inSpan.map((g) => g.ms));
    console.log(`GC during the run: ${inSpan.length} pauses, ${inSpan.length ? gcSt.sum.toFixed(1) : 0} ms in all (${((gcSt.sum || 0) / Math.max(1, steps.length - 1)).toFixed(3)} ms per instance), max ${inSpan.length ? gcSt.max.toFixed(2) : 0} ms; span ${span.toFixed(0)} ms`);
    console.log(`event-loop delay (ms): ${JSON.stringify(eventLoopDelayMs)}`);
    const slow = steps.map((s, i) => ({ ...s, i })).filter((s) => s.gap !== undefined).sort((a, b) => b.gap - a.gap).slice(0, 8);
    console.log(`slowest gaps (index, index mod 32, ${keys.join(' / ')}, GC ms inside the gap):`);
    for (const s of slow) {
      const gcMs = gcs.filter((g) => g.at >= s.at - s.gap && g.at <= s.at).reduce((a, g) => a + g.ms, 0);
      console.log(`  #${s.i} (${s.i % 32}): ${keys.map((k) => (s[k] === undefined ? '-' : s[k].toFixed(2))).join(' / ')}  gc ${gcMs.toFixed(2)}`);
    }
    console.log(`JSON ${JSON.stringify({ bench: 'ingest-latency', round: round + 1, perSecond: INSTANCES / seconds, steps: Object.fromEntries(keys.map((k) => [k, stats(steps.map((s) => s[k]))])), gc: { count: inSpan.length, ms: gcSt.sum || 0 }, eventLoopDelayMs })}`);
  }
} finally {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  await scratch.drop();
  await rm(work, { recursive: true, force: true });
}
