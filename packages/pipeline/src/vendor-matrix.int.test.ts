/**
 * Issue 11's acceptance matrix: every vendor profile of the phantom (naming, ImageType, character
 * sets, angled axial blocks, Enhanced MR, compressed transfer syntaxes, distractor series) goes
 * through the real jobs — ingest identity, settle, route, infer, report — against a real Postgres
 * and Redis. Routing must give each series the role the profile's routing truth names, inference
 * must decode every transfer syntax, and the SR must carry the source's PatientName groups.
 */
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db } from '@ldh/db';
import { personName, readPart10 } from '@ldh/dicom';
import { type LoadedModel } from '@ldh/model';
import { generateStudy, loadPhantomCodecs, PROFILE_NAMES, type PhantomStudy } from '@ldh/phantom';
import { describeReport } from '@ldh/sr';
import { type InstanceStore } from '@ldh/storage';
import { settleDueStudies, type PipelineDeps } from '@ldh/pipeline';
import { drainAll, ingestBytes, openPipelineHarness, type PipelineHarness } from './testing.js';


let db: Db;
let store: InstanceStore;
let model: LoadedModel;
let deps: PipelineDeps;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-vendor-matrix-'));

let harness: PipelineHarness;
beforeAll(async () => {
  await loadPhantomCodecs();
  harness = await openPipelineHarness({ rootDir: tmp, scratchPrefix: 'ldh_vendor' });
  ({ db, store, model, deps } = harness);
});

afterAll(() => harness?.close());

async function ingest(study: PhantomStudy): Promise<void> {
  for (const inst of study.instances) await ingestBytes(deps, inst.bytes);
}

describe('vendor profile matrix: routing, decoding and report per profile', () => {
  it.each(PROFILE_NAMES.map((p) => [p]))('%s', async (profile) => {
    const study = generateStudy({ seed: 11, profile, levels: { 'L4-L5': 'extrusion' } });
    await ingest(study);
    expect(await settleDueStudies(deps, 15_000)).toBe(1);
    await drainAll(deps, model);

    const row = await db.study.findUniqueOrThrow({
      where: { studyInstanceUid: study.studyInstanceUid },
      include: { series: true, reports: true, inferenceRuns: true },
    });
    const roles = Object.fromEntries(row.series.map((s) => [s.seriesInstanceUid, s.role === 'other' ? null : s.role]));
    const expected = Object.fromEntries(study.series.map((s) => [s.seriesInstanceUid, s.expectedRole]));
    expect({ state: row.state, reason: row.stateReason, roles }).toEqual({ state: 'done', reason: 'no destination configured', roles: expected });

    // Every selected image was decoded (whatever the transfer syntax) and scored.
    const run = row.inferenceRuns[0]!;
    expect(run.state).toBe('succeeded');
    const perImage = run.perImage as Array<{ sopInstanceUid: string; frameNumber?: number }>;
    expect(perImage.length).toBeGreaterThanOrEqual(3);
    const multiFrame = study.instances.some((i) => i.frames > 1);
    expect(perImage.some((p) => p.frameNumber !== undefined)).toBe(multiFrame);

    // Per level: every scored axial image (or frame of an Enhanced MR) sits in the level of the
    // phantom stack it was planned in; the SC summary was written too.
    const truthOf = new Map(
      study.instances.flatMap((i) =>
        i.role !== 't2_ax' ? [] : i.frameLevels ? i.frameLevels.map((l, f) => [`${i.sopInstanceUid}#${f + 1}`, l] as const) : [[`${i.sopInstanceUid}#0`, i.level] as const],
      ),
    );
    const perLevel = run.perLevel as Array<{ level: string; images: Array<{ sopInstanceUid: string; frameNumber?: number }> }>;
    expect(perLevel.length).toBeGreaterThanOrEqual(1);
    for (const l of perLevel) for (const im of l.images) expect([profile, truthOf.get(`${im.sopInstanceUid}#${im.frameNumber ?? 0}`)]).toEqual([profile, l.level]);
    expect(row.reports[0]!.scStorageKey).toBeTruthy();

    // The SR names the patient as the source does: every PN group, decoded from its charset.
    const srBytes = await readFile(store.pathOf(row.reports[0]!.srStorageKey));
    const sr = describeReport(srBytes);
    expect(sr.studyInstanceUid).toBe(study.studyInstanceUid);
    const source = readPart10(study.instances[0]!.bytes, { headerOnly: true }).dataset;
    expect(personName(readPart10(srBytes, { headerOnly: true }).dataset, 'PatientName')).toEqual(personName(source, 'PatientName'));
  });
});
