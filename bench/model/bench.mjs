#!/usr/bin/env node
// Model runtime benchmark (@ldh/model on real ONNX Runtime, CPU):
//  1. images/s at batch 1 vs batch 8/16 with the runtime's default session pool, each as a ratio
//     against batch 1 measured in the same run, plus the worst event-loop delay seen meanwhile;
//  2. session layouts, same work at batch 8, repeats interleaved so load drift hits all alike, on
//     the machine as it is and with one core taken by a busy process (the SCP, Postgres and writer
//     share the worker's host): one session × N threads with ORT's default spin-waiting, the same
//     without spinning, N one-thread sessions (the default), and — as the reference the pool
//     replaces — one session called directly on the main thread;
//  3. the latency of one study (21 images, default batch size) on the default pool;
//  4. peak RSS; then one JSON line with everything.
//
// Needs the built package:  npm run build   (or: npx turbo run build --filter=@ldh/model)
// Usage: node bench/model/bench.mjs [--card models/<name>.json] [--images 48] [--batches 1,8,16]
//          [--pool <sessions>] [--threads <intra-op per session>] [--repeats 3] [--no-layouts]
// Default card: the newest non-placeholder card in models/, else the placeholder.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const distIndex = join(root, 'packages/model/dist/index.js');

let api;
try {
  api = await import(distIndex);
} catch (err) {
  console.error(`cannot import ${relative(process.cwd(), distIndex)}: build first (npx turbo run build --filter=@ldh/model)\n${err}`);
  process.exit(2);
}
const { loadModel, classifyImages } = api;
const ort = createRequire(join(root, 'packages/model/package.json'))('onnxruntime-node');
const quiet = { info: () => undefined, warn: (_f, m) => console.error(`warn: ${m}`) };

/** Deterministic inputs in the normalised value range; content does not change a CNN's cost. */
function makeImages(n, length, seed = 7) {
  let x = seed >>> 0;
  return Array.from({ length: n }, () => {
    const t = new Float32Array(length);
    for (let i = 0; i < length; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      t[i] = (x / 0xffffffff - 0.5) * 4;
    }
    return t;
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (bytes) => Math.round((bytes / 1048576) * 10) / 10;
const peakRssBytes = () => process.resourceUsage().maxRSS * 1024;
const round = (x, d = 2) => Number(x.toFixed(d));

function defaultCard() {
  const dir = join(root, 'models');
  const cards = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(dir, f));
  const real = cards.filter((c) => !c.includes('placeholder')).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return real[0] ?? join(dir, 'placeholder-v0.json');
}

/** Runs `fn` and returns its duration and the worst event-loop delay observed during it. */
async function measure(fn) {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  h.disable();
  return { ms, maxLoopDelayMs: h.max / 1e6 };
}

/** A busy loop in a child process: one core taken by "the rest of the host". */
function startContention() {
  const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  return () => new Promise((res) => (child.once('exit', res), child.kill('SIGKILL')));
}

async function main() {
  const { values } = parseArgs({
    options: {
      card: { type: 'string' },
      images: { type: 'string', default: '48' },
      batches: { type: 'string', default: '1,8,16' },
      pool: { type: 'string' },
      threads: { type: 'string' },
      repeats: { type: 'string', default: '3' },
      'no-layouts': { type: 'boolean', default: false },
    },
  });
  const cardPath = resolve(values.card ?? defaultCard());
  const nImages = Number(values.images);
  const batches = values.batches.split(',').map(Number);
  if (!batches.includes(1)) batches.unshift(1); // the reference
  const repeats = Number(values.repeats);
  const cores = availableParallelism();
  const poolOpts = {
    ...(values.pool ? { poolSize: Number(values.pool) } : {}),
    ...(values.threads ? { intraOpThreads: Number(values.threads) } : {}),
  };

  const rssBefore = peakRssBytes();
  const model = await loadModel(cardPath, { provider: 'cpu', ...poolOpts, logger: quiet });
  const s = model.session;
  const images = makeImages(nImages, model.imageLength);
  console.log(
    `model ${model.card.name} ${model.card.version}${model.placeholder ? ' (placeholder)' : ''}, ${model.card.input.size}px, ` +
      `${nImages} images; pool ${s.poolSize} x ${s.intraOpThreads} threads, spinning ${s.allowSpinning}, ${model.provider}; ` +
      `${cores} cores, loadavg ${loadavg()[0].toFixed(2)}`,
  );
  // Warm-up: first runs allocate arenas and pick kernels.
  await classifyImages(model, images.slice(0, Math.max(...batches)), { batchSize: Math.max(...batches) });
  await classifyImages(model, images.slice(0, s.poolSize), { batchSize: 1 });

  const sweep = [];
  for (const batchSize of batches) {
    const runs = [];
    for (let r = 0; r < repeats; r++) runs.push(await measure(() => classifyImages(model, images, { batchSize })));
    const imagesPerS = median(runs.map((x) => (nImages / x.ms) * 1000));
    sweep.push({ batchSize, imagesPerS, maxLoopDelayMs: Math.max(...runs.map((x) => x.maxLoopDelayMs)) });
  }
  const ref = sweep[batches.indexOf(1)].imagesPerS;
  console.log('batch  images/s  ratio vs batch 1  max event-loop delay ms');
  for (const x of sweep) {
    x.ratioVsBatch1 = x.imagesPerS / ref;
    console.log(
      `${String(x.batchSize).padStart(5)}  ${x.imagesPerS.toFixed(1).padStart(8)}  ${x.ratioVsBatch1.toFixed(2).padStart(16)}  ${x.maxLoopDelayMs.toFixed(1).padStart(23)}`,
    );
  }
  // One study as the worker sees it: 3 + 3 sagittal + 15 axial images (ldh-input-v1), default batch.
  const studyImages = images.slice(0, Math.min(21, nImages));
  const studyRuns = [];
  for (let r = 0; r < repeats; r++) studyRuns.push(await measure(() => classifyImages(model, studyImages)));
  const study = {
    images: studyImages.length,
    medianMs: median(studyRuns.map((x) => x.ms)),
    maxLoopDelayMs: Math.max(...studyRuns.map((x) => x.maxLoopDelayMs)),
  };
  console.log(`one study (${study.images} images, default batch): ${study.medianMs.toFixed(0)} ms median, event loop delayed ≤ ${study.maxLoopDelayMs.toFixed(0)} ms`);
  const rssDefault = peakRssBytes();
  await model.dispose();

  const layouts = values['no-layouts'] ? undefined : await compareLayouts(cardPath, images, cores, repeats);

  const result = {
    bench: 'model',
    model: model.card.name,
    version: model.card.version,
    placeholder: model.placeholder,
    inputSize: model.card.input.size,
    images: nImages,
    cores,
    pool: { poolSize: s.poolSize, intraOpThreads: s.intraOpThreads, allowSpinning: s.allowSpinning },
    repeats,
    loadavg1: round(loadavg()[0]),
    sweep: sweep.map((x) => ({
      batchSize: x.batchSize,
      imagesPerS: round(x.imagesPerS),
      ratioVsBatch1: round(x.ratioVsBatch1, 3),
      maxLoopDelayMs: round(x.maxLoopDelayMs, 1),
    })),
    study: { images: study.images, medianMs: round(study.medianMs, 1), maxLoopDelayMs: round(study.maxLoopDelayMs, 1) },
    layouts,
    peakRssMiB: { beforeLoad: mib(rssBefore), defaultPool: mib(rssDefault), end: mib(peakRssBytes()) },
  };
  console.log(`peak RSS: ${result.peakRssMiB.defaultPool} MiB (default pool), ${result.peakRssMiB.end} MiB (end, all layouts loaded)`);
  console.log(JSON.stringify(result));
}

/** Same work, batch 8, in each layout; ratios against the default pool (first row). */
async function compareLayouts(cardPath, images, cores, repeats) {
  const batchSize = 8;
  const load = (opts) => loadModel(cardPath, { provider: 'cpu', logger: quiet, ...opts });
  const pooled = await load({ poolSize: cores, intraOpThreads: 1 });
  const spin = await load({ poolSize: 1, intraOpThreads: cores, allowSpinning: true });
  const noSpin = await load({ poolSize: 1, intraOpThreads: cores, allowSpinning: false });
  // Reference without the package's pool: ORT called on the main thread (what the pool replaces).
  const direct = await ort.InferenceSession.create(pooled.onnxPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: cores,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const { size, channels, name: inputName } = pooled.card.input;
  const runDirect = async () => {
    for (let start = 0; start < images.length; start += batchSize) {
      const chunk = images.slice(start, start + batchSize);
      const data = new Float32Array(chunk.length * pooled.imageLength);
      chunk.forEach((t, i) => data.set(t, i * pooled.imageLength));
      await direct.run({ [inputName]: new ort.Tensor('float32', data, [chunk.length, channels, size, size]) });
    }
  };
  const layouts = [
    { layout: `pool ${cores} x 1 thread (default)`, run: () => classifyImages(pooled, images, { batchSize }) },
    { layout: `pool 1 x ${cores} threads, spinning`, run: () => classifyImages(spin, images, { batchSize }) },
    { layout: `pool 1 x ${cores} threads, no spinning`, run: () => classifyImages(noSpin, images, { batchSize }) },
    { layout: `main thread 1 x ${cores} threads, no spin`, run: runDirect },
  ];
  for (const l of layouts) await l.run(); // warm-up
  const rows = [];
  for (const contended of [false, true]) {
    const stop = contended ? startContention() : null;
    const samples = layouts.map(() => []);
    for (let r = 0; r < repeats; r++) {
      for (const [i, l] of layouts.entries()) samples[i].push(await measure(l.run));
    }
    if (stop) await stop();
    const rate = (xs) => median(xs.map((x) => (images.length / x.ms) * 1000));
    const base = rate(samples[0]);
    layouts.forEach((l, i) =>
      rows.push({
        layout: l.layout,
        contended,
        imagesPerS: rate(samples[i]),
        ratio: rate(samples[i]) / base,
        maxLoopDelayMs: Math.max(...samples[i].map((x) => x.maxLoopDelayMs)),
      }),
    );
  }
  await Promise.all([pooled.dispose(), spin.dispose(), noSpin.dispose(), direct.release()]);
  console.log(`layouts (batch ${batchSize}, ${images.length} images)   idle: images/s ratio loop-ms | 1 core busy: images/s ratio loop-ms`);
  for (const l of layouts) {
    const cell = (c) => {
      const r = rows.find((x) => x.layout === l.layout && x.contended === c);
      return `${r.imagesPerS.toFixed(1).padStart(8)} ${r.ratio.toFixed(2).padStart(5)} ${r.maxLoopDelayMs.toFixed(0).padStart(7)}`;
    };
    console.log(`  ${l.layout.padEnd(38)} ${cell(false).padStart(22)} | ${cell(true).padStart(29)}`);
  }
  return {
    batchSize,
    rows: rows.map((r) => ({ ...r, imagesPerS: round(r.imagesPerS), ratio: round(r.ratio, 3), maxLoopDelayMs: round(r.maxLoopDelayMs, 1) })),
  };
}

await main();
