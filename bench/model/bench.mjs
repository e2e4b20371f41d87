#!/usr/bin/env node
// Model runtime benchmark: images/s at batch 1 vs larger batches on one ONNX Runtime session,
// ratios against batch 1 measured in the same run, then the session layouts the runtime could use
// (one session with all intra-op threads vs a pool of 1-thread sessions on the main thread vs a
// pool of 1-thread sessions in worker threads), and peak RSS. Ends with one JSON line.
//
// Needs the built package:  npx turbo run build --filter=@ldh/model   (or: npm run build)
// Usage: node bench/model/bench.mjs [--card models/<name>.json] [--images 48] [--batches 1,8,16]
//                                   [--threads <n>] [--repeats 3] [--no-layouts]
// Default card: the newest non-placeholder card in models/, else the placeholder.
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
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
const quiet = { info: () => undefined, warn: (f, m) => console.error(`warn: ${m}`) };

/** Deterministic inputs in the normalised value range; content does not change the cost. */
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

// ---- worker-thread side of the "worker pool" layout ----
if (!isMainThread) {
  const { cardPath, count, batchSize } = workerData;
  const model = await loadModel(cardPath, { provider: 'cpu', intraOpThreads: 1, logger: quiet });
  const images = makeImages(count, model.imageLength, 11);
  await classifyImages(model, images.slice(0, 1), { batchSize: 1 }); // warm-up
  parentPort.postMessage({ ready: true });
  parentPort.on('message', async (msg) => {
    if (msg === 'go') {
      await classifyImages(model, images, { batchSize });
      parentPort.postMessage({ done: true });
    } else if (msg === 'stop') {
      await model.dispose();
      parentPort.close();
    }
  });
} else {
  await main();
}

function defaultCard() {
  const dir = join(root, 'models');
  const cards = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(dir, f));
  const real = cards.filter((c) => !c.includes('placeholder')).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return real[0] ?? join(dir, 'placeholder-v0.json');
}

async function timeRun(model, images, batchSize) {
  const t0 = performance.now();
  const r = await classifyImages(model, images, { batchSize });
  const ms = performance.now() - t0;
  return { ms, imagesPerS: (images.length / ms) * 1000, maxBatchMs: Math.max(...r.timings.batches.map((b) => b.ms)) };
}

async function main() {
  const { values } = parseArgs({
    options: {
      card: { type: 'string' },
      images: { type: 'string', default: '48' },
      batches: { type: 'string', default: '1,8,16' },
      threads: { type: 'string', default: String(availableParallelism()) },
      repeats: { type: 'string', default: '3' },
      'no-layouts': { type: 'boolean', default: false },
    },
  });
  const cardPath = resolve(values.card ?? defaultCard());
  const nImages = Number(values.images);
  const batches = values.batches.split(',').map(Number);
  const threads = Number(values.threads);
  const repeats = Number(values.repeats);
  if (!batches.includes(1)) batches.unshift(1); // the reference

  const rssBefore = peakRssBytes();
  const model = await loadModel(cardPath, { provider: 'cpu', intraOpThreads: threads, logger: quiet });
  const images = makeImages(nImages, model.imageLength);
  console.log(
    `model ${model.card.name} ${model.card.version}${model.placeholder ? ' (placeholder)' : ''}, input ${model.card.input.size}px, ` +
      `${nImages} images, ${threads} intra-op threads, provider ${model.provider}, loadavg ${loadavg()[0].toFixed(2)}`,
  );
  // Warm-up: first runs allocate the arena and pick kernels.
  await classifyImages(model, images.slice(0, 2), { batchSize: 1 });
  await classifyImages(model, images.slice(0, Math.max(...batches)), { batchSize: Math.max(...batches) });

  const sweep = [];
  for (const b of batches) {
    const runs = [];
    for (let r = 0; r < repeats; r++) runs.push(await timeRun(model, images, b));
    sweep.push({
      batchSize: b,
      imagesPerS: median(runs.map((x) => x.imagesPerS)),
      msPerImage: median(runs.map((x) => x.ms / nImages)),
      maxBatchMs: Math.max(...runs.map((x) => x.maxBatchMs)),
    });
  }
  const ref = sweep.find((s) => s.batchSize === 1).imagesPerS;
  for (const s of sweep) s.ratioVsBatch1 = s.imagesPerS / ref;
  console.log('batch  images/s  ms/image  max batch ms (event loop blocked)  ratio vs batch 1');
  for (const s of sweep) {
    console.log(
      `${String(s.batchSize).padStart(5)}  ${s.imagesPerS.toFixed(1).padStart(8)}  ${s.msPerImage.toFixed(2).padStart(8)}  ` +
        `${s.maxBatchMs.toFixed(1).padStart(33)}  ${s.ratioVsBatch1.toFixed(2).padStart(16)}`,
    );
  }
  const rssSingle = peakRssBytes();

  let layouts;
  if (!values['no-layouts']) layouts = await compareLayouts(model, cardPath, images, threads, repeats);
  await model.dispose();

  const result = {
    bench: 'model',
    model: model.card.name,
    version: model.card.version,
    placeholder: model.placeholder,
    inputSize: model.card.input.size,
    images: nImages,
    threads,
    repeats,
    loadavg1: Number(loadavg()[0].toFixed(2)),
    sweep: sweep.map((s) => ({
      batchSize: s.batchSize,
      imagesPerS: Number(s.imagesPerS.toFixed(2)),
      msPerImage: Number(s.msPerImage.toFixed(3)),
      maxBatchMs: Number(s.maxBatchMs.toFixed(1)),
      ratioVsBatch1: Number(s.ratioVsBatch1.toFixed(3)),
    })),
    layouts,
    peakRssMiB: { beforeLoad: mib(rssBefore), singleSession: mib(rssSingle), end: mib(peakRssBytes()) },
  };
  console.log(`peak RSS: ${result.peakRssMiB.singleSession} MiB (one session), ${result.peakRssMiB.end} MiB (after layouts)`);
  console.log(JSON.stringify(result));
}

/**
 * The same total work three ways, all at batch 8: one session using every core; `threads`
 * 1-thread sessions driven concurrently from the main thread; `threads` 1-thread sessions in
 * worker threads. Ratios are against the single session.
 */
async function compareLayouts(model, cardPath, images, threads, repeats) {
  const batchSize = 8;
  const single = [];
  for (let r = 0; r < repeats; r++) single.push((await timeRun(model, images, batchSize)).imagesPerS);

  const pool = await Promise.all(
    Array.from({ length: threads }, () => loadModel(cardPath, { provider: 'cpu', intraOpThreads: 1, logger: quiet })),
  );
  const share = Math.ceil(images.length / threads);
  const shares = pool.map((_, i) => images.slice(i * share, (i + 1) * share));
  await Promise.all(pool.map((m, i) => classifyImages(m, shares[i].slice(0, 1), { batchSize: 1 })));
  const mainPool = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await Promise.all(pool.map((m, i) => classifyImages(m, shares[i], { batchSize })));
    mainPool.push((images.length / (performance.now() - t0)) * 1000);
  }
  const rssMainPool = peakRssBytes();
  await Promise.all(pool.map((m) => m.dispose()));

  const workers = Array.from(
    { length: threads },
    (_, i) => new Worker(fileURLToPath(import.meta.url), { workerData: { cardPath, count: shares[i].length, batchSize } }),
  );
  const next = (w) => new Promise((res, rej) => (w.once('message', res), w.once('error', rej)));
  await Promise.all(workers.map(next));
  const workerPool = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const done = workers.map(next);
    for (const w of workers) w.postMessage('go');
    await Promise.all(done);
    workerPool.push((images.length / (performance.now() - t0)) * 1000);
  }
  for (const w of workers) w.postMessage('stop');
  await Promise.all(workers.map((w) => new Promise((res) => w.once('exit', res))));

  const base = median(single);
  const rows = [
    { layout: `1 session x ${threads} threads`, imagesPerS: base },
    { layout: `${threads} sessions x 1 thread, main thread`, imagesPerS: median(mainPool) },
    { layout: `${threads} sessions x 1 thread, worker threads`, imagesPerS: median(workerPool) },
  ];
  console.log(`layouts (batch ${batchSize}):  images/s  ratio vs single session`);
  for (const r of rows) console.log(`  ${r.layout.padEnd(40)} ${r.imagesPerS.toFixed(1).padStart(8)}  ${(r.imagesPerS / base).toFixed(2)}`);
  return {
    batchSize,
    rssMiBAfterMainPool: mib(rssMainPool),
    rows: rows.map((r) => ({ ...r, imagesPerS: Number(r.imagesPerS.toFixed(2)), ratioVsSingle: Number((r.imagesPerS / base).toFixed(3)) })),
  };
}
