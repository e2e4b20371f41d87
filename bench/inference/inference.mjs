#!/usr/bin/env node
// Inference runtime benchmark: onnxruntime-node (what the worker runs) vs PyTorch eager, on the
// SAME weights in the SAME run. training/bench_runtime.py builds the shipped architecture (SE-CBAM
// ResNeXt-50, LdhNet "dual") with a fixed seed, exports those weights to ONNX (opset 17, as
// training/export.py does) and answers timed forward passes; this script loads each export in
// onnxruntime-node, checks its logits against PyTorch's on a fixed input, then times both
// runtimes interleaved (so load drift hits both alike) at the card's input size and at 224 px,
// batch 1 and 16. Prints ms/image, achieved GFLOP/s (conv + linear FLOPs counted in PyTorch) and
// ORT/PyTorch time ratios against the target (<= 0.8), then one JSON line.
//
// Same thread count for both (--threads, default 1): the worker's default layout is N one-thread
// ORT sessions (packages/model), so one thread is the per-core comparison that matters, and on a
// shared, oversubscribed host multi-threaded spin-waiting (OpenMP in PyTorch, ORT's pool) measures
// the scheduler more than the runtime.
//
// Needs Debian's python3-torch (/usr/bin/python3) and a built packages/model (onnxruntime-node).
// Usage: node bench/inference/inference.mjs [--quick] [--threads 1] [--repeats 5] [--sizes card,224] [--batches 1,16]
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    threads: { type: 'string', default: '1' },
    repeats: { type: 'string' },
    sizes: { type: 'string', default: 'card,224' },
    batches: { type: 'string', default: '1,16' },
  },
});
const threads = Number(args.threads);
const repeats = Number(args.repeats ?? (args.quick ? 2 : 5));
const batches = args.batches.split(',').map(Number);
const TARGET = 0.8;
const log = (m) => process.stderr.write(`[inference] ${m}\n`);

/** Input size of the newest non-placeholder card in models/ (what the worker runs by default). */
function cardSize() {
  const cards = readdirSync(join(root, 'models'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(root, 'models', f), 'utf8')))
    .filter((c) => c.placeholder !== true)
    .sort((a, b) => String(b.version).localeCompare(String(a.version), undefined, { numeric: true }));
  return { size: cards[0]?.input?.size ?? 224, card: cards[0] ? `${cards[0].name} ${cards[0].version}` : 'none' };
}
const card = cardSize();
const sizes = [...new Set(args.sizes.split(',').map((s) => (s === 'card' ? card.size : Number(s))))];

const ort = createRequire(join(root, 'packages/model/package.json'))('onnxruntime-node');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ------------------------------------------------------------------ PyTorch side (a child)
const python = spawn('/usr/bin/python3', ['-m', 'training.bench_runtime', '--threads', String(threads)], {
  cwd: root,
  env: { ...process.env, PYTHONPATH: root, PYTHONUNBUFFERED: '1', OMP_NUM_THREADS: String(threads) },
  stdio: ['pipe', 'pipe', 'inherit'],
});
const pyExit = new Promise((r) => python.once('exit', r));
const lines = createInterface({ input: python.stdout })[Symbol.asyncIterator]();
async function ask(req) {
  if (req) python.stdin.write(`${JSON.stringify(req)}\n`);
  const { value, done } = await lines.next();
  if (done) throw new Error('the PyTorch child exited (is python3-torch installed? /usr/bin/python3 -m training.bench_runtime)');
  const msg = JSON.parse(value);
  if (msg.error) throw new Error(msg.error);
  return msg;
}

const work = await mkdtemp(join(tmpdir(), 'ldh-bench-inference-'));
const rows = [];
let torchVersion = '?';
try {
  torchVersion = (await ask()).torch;
  for (const size of sizes) {
    log(`exporting the seeded model at ${size} px (PyTorch -> ONNX) ...`);
    const onnxPath = join(work, `ldh-${size}.onnx`);
    const exp = await ask({ op: 'export', size, path: onnxPath });
    const session = await ort.InferenceSession.create(onnxPath, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    // Same weights: ORT's logits on PyTorch's fixed input must match PyTorch's.
    const raw = await readFile(exp.check.inputFile);
    const input = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    const got = (await session.run({ image: new ort.Tensor('float32', input, exp.check.shape) })).logits.data;
    const maxAbsDiff = Math.max(...exp.check.logits.map((v, i) => Math.abs(v - got[i])));
    if (!(maxAbsDiff < 1e-3)) throw new Error(`ORT and PyTorch disagree on the same weights at ${size} px: max |diff| ${maxAbsDiff}`);
    for (const batch of batches) {
      const tensor = new ort.Tensor('float32', new Float32Array(batch * 3 * size * size).map((_, i) => Math.sin(i) * 2), [batch, 3, size, size]);
      const ortRun = async () => {
        const t0 = performance.now();
        await session.run({ image: tensor });
        return performance.now() - t0;
      };
      const torchRun = async () => (await ask({ op: 'run', size, batch })).ms;
      await ortRun(); // warm-up, not measured
      await torchRun();
      const ms = { ort: [], torch: [] };
      for (let r = 0; r < repeats; r++) {
        // Alternate which runtime goes first, so neither always follows the other's cache state.
        if (r % 2 === 0) {
          ms.ort.push(await ortRun());
          ms.torch.push(await torchRun());
        } else {
          ms.torch.push(await torchRun());
          ms.ort.push(await ortRun());
        }
      }
      const ortMs = median(ms.ort) / batch;
      const torchMs = median(ms.torch) / batch;
      const row = {
        size,
        batch,
        ortMsPerImage: ortMs,
        torchMsPerImage: torchMs,
        ratio: ortMs / torchMs,
        ortGflops: exp.gflopPerImage / (ortMs / 1000),
        torchGflops: exp.gflopPerImage / (torchMs / 1000),
        gflopPerImage: exp.gflopPerImage,
        maxAbsDiff,
        pass: ortMs / torchMs <= TARGET,
      };
      rows.push(row);
      log(`${size} px, batch ${batch}: ORT ${ortMs.toFixed(1)} ms/image, PyTorch ${torchMs.toFixed(1)} ms/image (${row.ratio.toFixed(2)}x)`);
    }
    await session.release();
  }
} finally {
  python.stdin.end(`${JSON.stringify({ op: 'quit' })}\n`);
  await pyExit;
  await rm(work, { recursive: true, force: true });
}

console.log(`\ninference: onnxruntime-node ${ort.env.versions?.common ?? ''} vs PyTorch ${torchVersion} eager, same seeded weights (${card.card} architecture), ${threads} thread(s) each, median of ${repeats}`);
console.log(`${'size'.padEnd(6)}${'batch'.padStart(6)}${'ORT ms/img'.padStart(12)}${'torch ms/img'.padStart(14)}${'ORT GFLOP/s'.padStart(13)}${'torch GFLOP/s'.padStart(15)}${'ORT/torch'.padStart(11)}  target <= ${TARGET}`);
for (const r of rows) {
  console.log(
    `${String(r.size).padEnd(6)}${String(r.batch).padStart(6)}${r.ortMsPerImage.toFixed(1).padStart(12)}${r.torchMsPerImage.toFixed(1).padStart(14)}${r.ortGflops.toFixed(1).padStart(13)}${r.torchGflops.toFixed(1).padStart(15)}${r.ratio.toFixed(2).padStart(11)}  ${r.pass ? 'pass' : 'FAIL'}`,
  );
}
console.log(JSON.stringify({ bench: 'inference', threads, repeats, cardSize: card.size, torch: torchVersion, loadavg1: loadavg()[0], cpus: availableParallelism(), target: TARGET, rows }));
