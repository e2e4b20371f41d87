/**
 * Per-level findings end to end: a phantom study with a known herniated level goes through
 * ingest, inference (placeholder model from the harness: its scores are arbitrary, so the test
 * checks where each level's images come from, not which level is flagged) and the report job. The
 * run gets perLevel with each level scored from exactly the phantom's axial stack of that level,
 * the SR has one group per level that dciodvfy and dsrdump accept, and the Report row names a
 * Secondary Capture that dciodvfy accepts; LDH_SC_SUMMARY=0 (scSummary false) writes none.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPart10 } from '@ldh/dicom';
import type { LevelScore } from '@ldh/model';
import { generateStudy } from '@ldh/phantom';
import { describeReport, SECONDARY_CAPTURE_SOP_CLASS } from '@ldh/sr';
import { settleDueStudies } from '@ldh/pipeline';
import { runReportJob } from './report-job.js';
import { drainAll, ingestBytes, openPipelineHarness, type PipelineHarness } from './testing.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-per-level-'));
let harness: PipelineHarness;
beforeAll(async () => {
  harness = await openPipelineHarness({ rootDir: tmp });
});
afterAll(() => harness?.close());

function dciodvfyErrors(bytes: Uint8Array, name: string): string[] {
  const file = path.join(tmp, name);
  writeFileSync(file, bytes);
  const r = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.split('\n').filter((l) => /error/i.test(l));
}

describe('per-level findings through the pipeline', () => {
  it('scores each disc level from its own axial stack, writes per-level SR groups and an SC summary', async () => {
    const { db, store, deps, model } = harness;
    const study = generateStudy({ seed: 41, matrix: 128, levels: { 'L4-L5': 'extrusion' } });
    for (const inst of study.instances) await ingestBytes(deps, inst.bytes);
    expect(await settleDueStudies(deps, 15_000)).toBe(1);
    await drainAll(deps, model);

    const row = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: study.studyInstanceUid }, include: { reports: true, inferenceRuns: true } });
    expect(row.state).toBe('done');
    const run = row.inferenceRuns[0]!;
    const perLevel = run.perLevel as unknown as LevelScore[];
    expect(perLevel.map((l) => l.level)).toEqual(['L3-L4', 'L4-L5', 'L5-S1']);
    for (const l of perLevel) {
      const truth = study.instances.filter((i) => i.role === 't2_ax' && i.level === l.level).map((i) => i.sopInstanceUid);
      expect(new Set(l.sopInstanceUids)).toEqual(new Set(truth));
      expect(l.sopInstanceUids).toContain(l.keySopInstanceUid);
      expect(l.decision).toBe(l.probability >= l.threshold! ? 'ldh' : 'healthy');
    }

    const report = row.reports[0]!;
    const sr = await readFile(store.pathOf(report.srStorageKey));
    expect(dciodvfyErrors(sr, 'sr.dcm')).toEqual([]);
    const dump = spawnSync('dsrdump', [path.join(tmp, 'sr.dcm')], { encoding: 'utf8' });
    expect(dump.status).toBe(0);
    expect(dump.stdout).toContain('"L4/L5 disc"');
    const described = describeReport(sr);
    expect(described.levels.map((l) => [l.level, l.decision])).toEqual(perLevel.map((l) => [l.level, l.decision]));
    for (const [i, l] of described.levels.entries()) expect(l.probability).toBeCloseTo(perLevel[i]!.probability, 3);

    expect(report.scSopInstanceUid).toBeTruthy();
    const sc = await readFile(store.pathOf(report.scStorageKey!));
    expect(dciodvfyErrors(sc, 'sc.dcm')).toEqual([]);
    const ds = readPart10(sc).dataset;
    expect(ds).toMatchObject({ SOPClassUID: SECONDARY_CAPTURE_SOP_CLASS, SOPInstanceUID: report.scSopInstanceUid, StudyInstanceUID: study.studyInstanceUid, BurnedInAnnotation: 'YES' });
    // The SC shows the key image of the most suspicious level.
    const top = [...perLevel].sort((a, b) => b.probability - a.probability)[0]!;
    expect((ds.SourceImageSequence as Array<{ ReferencedSOPInstanceUID: string }>)[0]!.ReferencedSOPInstanceUID).toBe(top.keySopInstanceUid);

    // Idempotent: the job again returns the same report, and the same SC UID.
    const again = await runReportJob({ inferenceRunId: run.id, studyInstanceUid: study.studyInstanceUid } as never, { ...deps, identity: { manufacturer: 'test', softwareVersion: '0' } });
    expect(again.reportId).toBe(report.id);
    expect(await db.report.count({ where: { studyId: row.id } })).toBe(1);
  });

  it('writes no SC when the summary is switched off', async () => {
    const { db, deps, model } = harness;
    const study = generateStudy({ seed: 42, matrix: 128 });
    for (const inst of study.instances) await ingestBytes(deps, inst.bytes);
    expect(await settleDueStudies(deps, 15_000)).toBe(1);
    // Inference only, then the report job by hand with scSummary off.
    await drainAll(deps, model);
    const row = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: study.studyInstanceUid }, include: { inferenceRuns: true, reports: true } });
    await db.report.deleteMany({ where: { studyId: row.id } });
    const res = await runReportJob({ inferenceRunId: row.inferenceRuns[0]!.id, studyInstanceUid: study.studyInstanceUid } as never, { ...deps, identity: { manufacturer: 'test', softwareVersion: '0' }, scSummary: false });
    const report = await db.report.findUniqueOrThrow({ where: { id: res.reportId } });
    expect(report.scSopInstanceUid).toBeNull();
    expect(report.scStorageKey).toBeNull();
  });
});
