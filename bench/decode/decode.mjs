#!/usr/bin/env node
// Pixel decode benchmark (@ldh/dicom decodeFrame): one phantom MR slice (320x320, 12 bits stored)
// encoded by the real encoders (dcmtk, OpenJPEG opj_compress, OpenJPH ojph_compress) in every
// transfer syntax the SCP stores, then decoded N times by each codec set — the chosen one
// (`cornerstone`: @cornerstonejs codecs + jpeg-lossless-decoder-js + dcmjs-codecs for 12-bit
// JPEG extended) and the alternative (`dcmjs-codecs` alone) — on the same bytes, runs
// interleaved so load drift hits both alike. Prints ms/image (median of N, after warm-up), the
// ratio alternative/chosen, the decoded-pixel check against the source (exact, or max |error| and
// PSNR for lossy), and one JSON line last.
//
// Needs the built packages (npx turbo run build --filter=@ldh/dicom --filter=@ldh/phantom) and
// dcmtk, libopenjp2-tools, openjph-tools on PATH.
// Usage: node bench/decode/decode.mjs [--repeats 20] [--matrix 320]
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({ options: { repeats: { type: 'string', default: '20' }, matrix: { type: 'string', default: '320' } } });
const repeats = Number(args.repeats);
const matrix = Number(args.matrix);

let dicom, phantom;
try {
  dicom = await import(join(root, 'packages/dicom/dist/index.js'));
  phantom = await import(join(root, 'packages/phantom/dist/index.js'));
} catch (err) {
  console.error(`build first: npx turbo run build --filter=@ldh/dicom --filter=@ldh/phantom\n${err}`);
  process.exit(2);
}
const { decodeFrame, pixelTesting: t } = dicom;

// Source: a T2 sagittal phantom slice (uncompressed explicit VR LE, 16 allocated / 12 stored).
const study = phantom.generateStudy({ seed: 11, matrix });
const slice = study.instances.find((i) => i.role === 't2_sag' && i.instanceNumber === 7) ?? study.instances[0];
const source = await decodeFrame(slice.bytes);
const img12 = { rows: source.rows, columns: source.columns, bitsAllocated: 16, bitsStored: 12, pixelRepresentation: 0, pixels: source.pixels };
// JPEG baseline is 8-bit only: the same slice reduced to 8 bits is its source.
const pixels8 = Uint8Array.from(source.pixels, (v) => v >> 4);
const img8 = { ...img12, bitsAllocated: 8, bitsStored: 8, pixels: pixels8 };
const native12 = t.writeNativeDicom(img12);
const native8 = t.writeNativeDicom(img8);
const encap = (img, ts, stream) => t.writeEncapsulatedDicom(img, ts, [[stream]], 'basic');

const cases = [
  ['implicit VR LE', '1.2.840.10008.1.2', await t.transcodeWithDcmtk(native12, 'dcmconv', ['+ti']), img12, 'exact'],
  ['explicit VR LE', '1.2.840.10008.1.2.1', native12, img12, 'exact'],
  ['explicit VR BE', '1.2.840.10008.1.2.2', await t.transcodeWithDcmtk(native12, 'dcmconv', ['+tb']), img12, 'exact'],
  ['deflated explicit LE', '1.2.840.10008.1.2.1.99', await t.transcodeWithDcmtk(native12, 'dcmconv', ['+td']), img12, 'exact'],
  ['RLE lossless', '1.2.840.10008.1.2.5', await t.transcodeWithDcmtk(native12, 'dcmcrle', []), img12, 'exact'],
  ['JPEG baseline 8-bit', '1.2.840.10008.1.2.4.50', await t.transcodeWithDcmtk(native8, 'dcmcjpeg', ['+eb']), img8, 'lossy'],
  ['JPEG extended 12-bit', '1.2.840.10008.1.2.4.51', await t.transcodeWithDcmtk(native12, 'dcmcjpeg', ['+ee']), img12, 'lossy'],
  ['JPEG lossless P14', '1.2.840.10008.1.2.4.57', await t.transcodeWithDcmtk(native12, 'dcmcjpeg', ['+el']), img12, 'exact'],
  ['JPEG lossless SV1', '1.2.840.10008.1.2.4.70', await t.transcodeWithDcmtk(native12, 'dcmcjpeg', ['+e1']), img12, 'exact'],
  ['JPEG-LS lossless', '1.2.840.10008.1.2.4.80', await t.transcodeWithDcmtk(native12, 'dcmcjpls', ['+el']), img12, 'exact'],
  ['JPEG-LS near (NEAR=3)', '1.2.840.10008.1.2.4.81', await t.transcodeWithDcmtk(native12, 'dcmcjpls', ['+en', '--max-deviation', '3']), img12, 'lossy'],
  ['JPEG 2000 lossless', '1.2.840.10008.1.2.4.90', encap(img12, '1.2.840.10008.1.2.4.90', await t.encodeJ2k(img12)), img12, 'exact'],
  ['JPEG 2000 lossy 10:1', '1.2.840.10008.1.2.4.91', encap(img12, '1.2.840.10008.1.2.4.91', await t.encodeJ2k(img12, 0, 10)), img12, 'lossy'],
  ['HTJ2K lossless', '1.2.840.10008.1.2.4.201', encap(img12, '1.2.840.10008.1.2.4.201', await t.encodeHtj2k(img12)), img12, 'exact'],
  ['HTJ2K lossy', '1.2.840.10008.1.2.4.203', encap(img12, '1.2.840.10008.1.2.4.203', await t.encodeHtj2k(img12, 0, 0.001)), img12, 'lossy'],
];

function check(decoded, ref) {
  let maxErr = 0;
  let se = 0;
  for (let i = 0; i < ref.pixels.length; i++) {
    const d = decoded.pixels[i] - ref.pixels[i];
    maxErr = Math.max(maxErr, Math.abs(d));
    se += d * d;
  }
  const peak = 2 ** ref.bitsStored - 1;
  const psnr = se === 0 ? Infinity : 10 * Math.log10((peak * peak) / (se / ref.pixels.length));
  return { maxErr, psnr: Number.isFinite(psnr) ? Math.round(psnr * 10) / 10 : null };
}

const sets = ['cornerstone', 'dcmjs-codecs'];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const [name, ts, bytes, ref, kind] of cases) {
  const times = Object.fromEntries(sets.map((s) => [s, []]));
  const checks = {};
  for (const s of sets) {
    // Warm-up: loads the codec and lets V8 optimise; also gives the pixel check.
    for (let w = 0; w < 2; w++) checks[s] = check(await decodeFrame(new Uint8Array(bytes), 0, { codecs: s }), ref);
  }
  for (let r = 0; r < repeats; r++) {
    for (const s of sets) {
      // A fresh buffer each time: decodeFrame caches the parse per buffer object.
      const copy = new Uint8Array(bytes);
      const t0 = performance.now();
      await decodeFrame(copy, 0, { codecs: s });
      times[s].push(performance.now() - t0);
    }
  }
  const ms = Object.fromEntries(sets.map((s) => [s, Math.round(median(times[s]) * 100) / 100]));
  rows.push({ name, ts, bytes: bytes.length, kind, check: checks.cornerstone, checkAlt: checks['dcmjs-codecs'], ms });
}

const pad = (s, n) => String(s).padEnd(n);
console.log(`decode ms/image, median of ${repeats}, ${source.rows}x${source.columns} phantom MR slice; loadavg ${loadavg()[0].toFixed(2)}`);
console.log(`${pad('transfer syntax', 24)}${pad('UID', 25)}${pad('bytes', 8)}${pad('check (chosen)', 26)}${pad('chosen ms', 11)}${pad('dcmjs-codecs ms', 17)}alt/chosen`);
for (const r of rows) {
  const c = r.kind === 'exact' ? (r.check.maxErr === 0 ? 'exact' : `NOT EXACT max|e|=${r.check.maxErr}`) : `max|e|=${r.check.maxErr} PSNR ${r.check.psnr} dB`;
  console.log(`${pad(r.name, 24)}${pad(r.ts, 25)}${pad(r.bytes, 8)}${pad(c, 26)}${pad(r.ms.cornerstone, 11)}${pad(r.ms['dcmjs-codecs'], 17)}${(r.ms['dcmjs-codecs'] / r.ms.cornerstone).toFixed(2)}`);
}
console.log(JSON.stringify({ bench: 'decode', repeats, matrix: `${source.rows}x${source.columns}`, loadavg1: loadavg()[0], rows }));
