#!/usr/bin/env node
// `npm run bench`: every performance benchmark in turn (progress on stderr), then ONE table of
// ratios with their targets and pass/fail marks on stdout, and a final JSON line.
// `npm run bench -- --quick`: the same with short runs. `npm run bench -- <name> [args]`: one
// benchmark with its own arguments and output. Each benchmark compares against a reference
// measured in the same run; see bench/README.md and bench/<name>/README.md.
// (bench/chaos is a fault-injection suite, not a benchmark: `npm run chaos`.)
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const benches = {
  ingest: 'ingest/ingest.mjs',
  inference: 'inference/inference.mjs',
  decode: 'decode/decode.mjs',
  pipeline: 'pipeline/pipeline.mjs',
  model: 'model/bench.mjs',
};
/** Arguments of each benchmark in the all-in-one run (full, quick). */
const plan = {
  // The peak-RSS parts (2 GB study, 128 MiB instances) are memory checks, not ratios: run them with `-- ingest`.
  ingest: { full: ['--instances', '500', '--rounds', '3', '--warmup', '1000', '--big-study-mb', '0', '--large-instances', '0'], quick: ['--instances', '200', '--rounds', '1', '--warmup', '300', '--big-study-mb', '0', '--large-instances', '0'] },
  inference: { full: [], quick: ['--quick'] },
  decode: { full: ['--repeats', '20'], quick: ['--repeats', '5'] },
  pipeline: { full: [], quick: ['--quick'] },
  model: { full: ['--no-layouts'], quick: ['--no-layouts', '--images', '16', '--batches', '1,16', '--repeats', '1'] },
};

const argv = process.argv.slice(2);
const bin = (name) => fileURLToPath(new URL(benches[name], import.meta.url));

if (argv[0] && !argv[0].startsWith('--')) {
  const [name, ...args] = argv;
  if (!(name in benches)) {
    console.error(`usage: npm run bench [-- --quick]   (every benchmark, one table)\n       npm run bench -- <${Object.keys(benches).join('|')}> [args]`);
    process.exit(2);
  }
  const child = spawn(process.execPath, [bin(name), ...args], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  const unknown = argv.filter((a) => a !== '--quick');
  if (unknown.length > 0) {
    console.error(`unknown option(s): ${unknown.join(' ')} (expected --quick, or a benchmark name: ${Object.keys(benches).join(', ')})`);
    process.exit(2);
  }
  await runAll(argv.includes('--quick'));
}

/** Runs one benchmark, its stdout forwarded to our stderr, and returns its last JSON line. */
function runOne(name, args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const forward = (d) => process.stderr.write(d.toString().replace(/^(?=.)/gm, `  ${name} | `));
    child.stdout.on('data', (d) => {
      out += d.toString();
      forward(d);
    });
    child.stderr.on('data', forward);
    child.on('exit', (code) => {
      const json = out
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'));
      try {
        resolve(code === 0 && json ? { ok: true, result: JSON.parse(json) } : { ok: false, error: `exit ${code}` });
      } catch (err) {
        resolve({ ok: false, error: `bad JSON line: ${err.message}` });
      }
    });
  });
}

/** One table row: what, measured value, reference, ratio, target and mark. */
function row(bench, metric, value, reference, ratio, target) {
  const pass = target ? (target.op === '<=' ? ratio <= target.value : ratio >= target.value) : null;
  return { bench, metric, value, reference, ratio, target: target ? `${target.op} ${target.value}` : null, pass };
}

function rowsOf(name, r) {
  const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
  switch (name) {
    case 'ingest': {
      const { ours, storescp, orthanc } = r.perSecond;
      const vsCeiling = r.ratios.oursVsStorescp.four / r.ceilingFourVsStorescp;
      return [
        row('ingest', 'ours vs Orthanc, 1 assoc (inst/s)', f(ours.one), f(orthanc.one), ours.one / orthanc.one, { op: '>=', value: 1.0 }),
        row('ingest', 'ours vs Orthanc, 4 assoc (inst/s)', f(ours.four), f(orthanc.four), ours.four / orthanc.four, { op: '>=', value: 1.0 }),
        row('ingest', `ours/storescp 4 assoc vs CPU-budget ceiling ${f(r.ceilingFourVsStorescp, 2)}x`, f(r.ratios.oursVsStorescp.four, 2), f(r.ceilingFourVsStorescp, 2), vsCeiling, { op: '>=', value: 0.9 }),
        row('ingest', 'ours vs storescp (no fsync), 1 assoc (inst/s)', f(ours.one), f(storescp.one), ours.one / storescp.one, null),
        row('ingest', 'ours vs storescp (no fsync), 4 assoc (inst/s)', f(ours.four), f(storescp.four), ours.four / storescp.four, null),
      ];
    }
    case 'inference':
      return r.rows.map((x) =>
        row('inference', `ORT vs PyTorch ${x.size}px b${x.batch} (ms/img; GFLOP/s ${f(x.ortGflops)} vs ${f(x.torchGflops)})`, f(x.ortMsPerImage), f(x.torchMsPerImage), x.ratio, { op: '<=', value: r.target }),
      );
    case 'decode':
      return r.rows.map((x) => row('decode', `${x.name} ms/image (chosen vs dcmjs-codecs)`, f(x.ms.cornerstone, 2), f(x.ms['dcmjs-codecs'], 2), x.ms.cornerstone / x.ms['dcmjs-codecs'], null));
    case 'pipeline':
      return [
        row('e2e', `last ACK -> SR at PACS, minus ${r.quietPeriodMs} ms quiet period (ms)`, f(r.e2e.medianMs, 0), String(r.e2e.targetMs), r.e2e.medianMs / r.e2e.targetMs, { op: '<=', value: 1.0 }),
        row('throughput', `studies/hour, ${r.throughput.inFlight} in flight (${r.throughput.studies} studies)`, f(r.throughput.studiesPerHour, 0), '-', NaN, null),
      ];
    case 'model': {
      const b1 = r.sweep.find((x) => x.batchSize === 1);
      return r.sweep
        .filter((x) => x.batchSize !== 1)
        .map((x) => row('model', `${r.model} ${r.inputSize}px pool, batch ${x.batchSize} vs 1 (images/s)`, f(x.imagesPerS), f(b1.imagesPerS), x.ratioVsBatch1, null));
    }
    default:
      return [];
  }
}

async function runAll(quick) {
  const started = Date.now();
  const names = Object.keys(plan);
  const results = {};
  const rows = [];
  const load0 = loadavg()[0];
  for (const [i, name] of names.entries()) {
    const args = plan[name][quick ? 'quick' : 'full'];
    process.stderr.write(`[bench] ${i + 1}/${names.length} ${name} ${args.join(' ')} (loadavg ${loadavg()[0].toFixed(2)}) ...\n`);
    const t0 = Date.now();
    const res = await runOne(name, args);
    process.stderr.write(`[bench] ${i + 1}/${names.length} ${name} ${res.ok ? 'done' : `FAILED (${res.error})`} in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    results[name] = res.ok ? res.result : { error: res.error };
    if (res.ok) rows.push(...rowsOf(name, res.result));
    else rows.push({ bench: name, metric: 'did not complete', value: '-', reference: '-', ratio: NaN, target: null, pass: false });
  }
  const minutes = (Date.now() - started) / 60000;
  const w = { metric: Math.max(...rows.map((r) => r.metric.length), 6) + 2 };
  console.log(`\nnpm run bench${quick ? ' --quick' : ''}: ${minutes.toFixed(1)} min, ${availableParallelism()} CPUs, loadavg ${load0.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end (compare ratios within one run)`);
  console.log(`${'bench'.padEnd(11)}${'metric'.padEnd(w.metric)}${'value'.padStart(10)}${'reference'.padStart(11)}${'ratio'.padStart(8)}  ${'target'.padEnd(8)}mark`);
  for (const r of rows) {
    const mark = r.pass === null ? '' : r.pass ? 'pass' : 'FAIL';
    console.log(`${r.bench.padEnd(11)}${r.metric.padEnd(w.metric)}${String(r.value).padStart(10)}${String(r.reference).padStart(11)}${(Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : '-').padStart(8)}  ${(r.target ?? '-').padEnd(8)}${mark}`);
  }
  const failed = names.filter((n) => results[n].error);
  console.log(JSON.stringify({ bench: 'all', quick, minutes, cpus: availableParallelism(), loadavg1: { start: load0, end: loadavg()[0] }, rows, results }));
  process.exitCode = failed.length > 0 ? 1 : 0;
}
