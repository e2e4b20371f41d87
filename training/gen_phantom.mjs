// Generates a training set with @ldh/phantom (build it first: npx tsc -p packages/phantom/tsconfig.build.json,
// and its dependency @ldh/dicom likewise). Output goes outside git (training/data/ is ignored).
//   node training/gen_phantom.mjs --out training/data/phantom-easy --count 150 --seed 1 --difficulty easy [--matrix 320]
import { parseArgs } from 'node:util';
import { writePhantomDataset } from '../packages/phantom/dist/index.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    count: { type: 'string', default: '150' },
    seed: { type: 'string', default: '1' },
    difficulty: { type: 'string', default: 'easy' },
    matrix: { type: 'string' },
  },
});
if (!values.out) throw new Error('--out is required');
const t0 = Date.now();
const { studies } = await writePhantomDataset({
  outDir: values.out,
  count: Number(values.count),
  seed: Number(values.seed),
  difficulty: values.difficulty,
  ...(values.matrix ? { matrix: Number(values.matrix) } : {}),
  onProgress: (done, total) => {
    if (done % 10 === 0 || done === total) console.log(`phantom ${done}/${total} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  },
});
const ldh = studies.filter((s) => s.label === 'ldh').length;
console.log(JSON.stringify({ out: values.out, studies: studies.length, ldh, seconds: (Date.now() - t0) / 1000 }));
