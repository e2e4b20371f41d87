#!/usr/bin/env node
// Renders the Secondary Capture summary of one synthetic phantom study (known herniation at
// L4-L5) as the report job would, with the shipped demo model on CPU, and writes it as a PNG for
// the docs (docs/screenshots/sc-summary.png) plus the DICOM file beside it when --dcm is given.
// Synthetic data only; the scores are the demo model's, trained on phantoms.
// Needs the built packages: npx turbo run build --filter=@ldh/sr --filter=@ldh/model --filter=@ldh/phantom
// Usage: node scripts/render-sc-summary.mjs [--out docs/screenshots/sc-summary.png] [--dcm out.dcm] [--seed 8]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const model = await import(join(root, 'packages/model/dist/index.js'));
const phantom = await import(join(root, 'packages/phantom/dist/index.js'));
const dicom = await import(join(root, 'packages/dicom/dist/index.js'));
const sr = await import(join(root, 'packages/sr/dist/index.js'));

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: join(root, 'docs/screenshots/sc-summary.png') },
    dcm: { type: 'string' },
    seed: { type: 'string', default: '8' },
    card: { type: 'string', default: join(root, 'models/ldh-dual-attention-resnext50-v2.json') },
  },
});

const loaded = await model.loadModel(resolve(values.card));
const card = loaded.card;
const study = phantom.generateStudy({ seed: Number(values.seed), caseIndex: 1, levels: { 'L4-L5': 'extrusion' } });
const byUid = new Map(study.instances.map((i) => [i.sopInstanceUid, i]));
const byRole = new Map();
for (const inst of study.instances) {
  if (!inst.role) continue;
  const ds = dicom.readPart10(inst.bytes, { headerOnly: true }).dataset;
  byRole.set(inst.role, [...(byRole.get(inst.role) ?? []), { sopInstanceUid: inst.sopInstanceUid, imagePositionPatient: dicom.nums(ds, 'ImagePositionPatient'), imageOrientationPatient: dicom.nums(ds, 'ImageOrientationPatient'), instanceNumber: Number(ds.InstanceNumber) }]);
}
const selected = model.selectFrames([...byRole].map(([role, instances]) => ({ role, instances })), card.input);
const images = [];
for (const [role, chosen] of Object.entries(selected)) {
  for (const c of chosen) {
    const img = await model.readDicomImage(byUid.get(c.sopInstanceUid).bytes);
    images.push({ role, uid: c.sopInstanceUid, img, tensor: await model.preprocessImage(img, card.input, role) });
  }
}
const { probabilities } = await model.classifyImages(loaded, images.map((i) => i.tensor));
const studyScore = model.scoreStudy(probabilities, card.aggregation, card.threshold);
const levels = model.scoreLevels(
  images.flatMap((im, k) => (im.role === 't2_ax' ? [{ sopInstanceUid: im.uid, imagePositionPatient: im.img.imagePositionPatient, imageOrientationPatient: im.img.imageOrientationPatient, rows: im.img.rows, columns: im.img.columns, pixelSpacing: im.img.pixelSpacing, probability: probabilities[k] }] : [])),
  model.levelRule(card),
);
const top = model.mostSuspiciousLevel(levels);
const keyInst = top ? byUid.get(top.keySopInstanceUid) : undefined;
const header = sr.sourceStudyHeader(dicom.readPart10(study.instances[0].bytes, { headerOnly: true }).dataset, study.studyInstanceUid);
const input = {
  study: header,
  levels: levels.map((l) => ({ level: l.level, probability: l.probability, decision: l.decision })),
  studyProbability: studyScore.probability,
  decision: studyScore.decision,
  ...(top ? { keyLevel: top.level } : {}),
  ...(keyInst ? { keyImage: { bytes: keyInst.bytes, sopClassUid: '1.2.840.10008.5.1.4.1.1.4', sopInstanceUid: keyInst.sopInstanceUid } } : {}),
  algorithm: { name: card.name, version: card.version, deviceObserverUid: dicom.uidFromName(`ldh-model:${card.name}:${card.version}:${card.sha256}`), manufacturer: 'LDH triage research prototype', modelName: card.name, placeholder: card.placeholder, softwareVersion: '0.1.0' },
  sopInstanceUid: dicom.uidFromName(`ldh-sc-example:${study.studyInstanceUid}`),
  seriesInstanceUid: dicom.uidFromName(`ldh-sc-example-series:${study.studyInstanceUid}`),
  contentDateTime: new Date(),
};
const { bytes, rendered } = await sr.buildSecondaryCapture(input);
mkdirSync(dirname(resolve(values.out)), { recursive: true });
writeFileSync(resolve(values.out), await sr.summaryPng(rendered));
if (values.dcm) writeFileSync(resolve(values.dcm), bytes);
await loaded.dispose();
console.log(JSON.stringify({ out: values.out, truth: study.levels.map((l) => `${l.level}:${l.grade}`), study: studyScore, levels: levels.map((l) => ({ level: l.level, p: +l.probability.toFixed(3), decision: l.decision })) }));
