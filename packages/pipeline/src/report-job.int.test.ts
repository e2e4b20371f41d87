/**
 * The report job with real source headers in non-default character sets: a multi-valued
 * Japanese PatientName (pydicom's chrH32 bytes, written into phantom instances by pydicom)
 * reaches the SR with all three groups; an undecodable one fails the study with a reason
 * instead of retrying for ever.
 */
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listStudyAudit, type Db } from '@ldh/db';
import { personName, readPart10 } from '@ldh/dicom';
import { pydicomCharsetDir, pydicomText, runPython } from '@ldh/dicom/testing';
import { type LoadedModel } from '@ldh/model';
import { generateStudy } from '@ldh/phantom';
import { UnrecoverableError } from '@ldh/queue';
import { type InstanceStore } from '@ldh/storage';
import { settleDueStudies, type PipelineDeps } from '@ldh/pipeline';
import { drainAll, ingestBytes, openPipelineHarness, type PipelineHarness } from './testing.js';


// pydicom rewrites the files' Specific Character Set and PatientName (raw bytes, as given).
const REWRITE = String.raw`
import json, sys, warnings
import pydicom
warnings.simplefilter('ignore')
mode, source, files = sys.argv[1], sys.argv[2], sys.argv[3:]
if mode == 'japanese':
    src = pydicom.dcmread(source)
    charset = list(src.SpecificCharacterSet)
    raw = src.get_item('PatientName').value
else:
    charset = 'ISO_IR 192'
    raw = b'Doe^J\xc3\x28n'
for f in files:
    ds = pydicom.dcmread(f)
    ds.SpecificCharacterSet = charset
    ds.add_new(0x00100010, 'PN', raw)
    ds.save_as(f, write_like_original=True)
print(json.dumps(len(files)))
`;

let db: Db;
let store: InstanceStore;
let model: LoadedModel;
let deps: PipelineDeps;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ldh-report-charset-'));

/** A phantom study whose instances pydicom rewrote; returns its UID and the rewritten files. */
function rewrittenStudy(seed: number, mode: 'japanese' | 'invalid'): { studyInstanceUid: string; files: string[] } {
  const study = generateStudy({ seed, matrix: 128, levels: { 'L4-L5': 'extrusion' } });
  const files = study.instances.map((inst, i) => {
    const f = path.join(tmp, `${seed}-${i}.dcm`);
    writeFileSync(f, inst.bytes);
    return f;
  });
  expect(runPython<number>(REWRITE, [mode, path.join(pydicomCharsetDir(), 'chrH32.dcm'), ...files])).toBe(files.length);
  return { studyInstanceUid: study.studyInstanceUid, files };
}

const ingest = (file: string) => ingestBytes(deps, readFileSync(file));

/** Runs the queued jobs in pipeline order; report job errors are collected, not thrown. */
async function drain(): Promise<unknown[]> {
  const errors: unknown[] = [];
  await drainAll(deps, model, { onReportError: (err) => errors.push(err) });
  return errors;
}

let harness: PipelineHarness;
beforeAll(async () => {
  harness = await openPipelineHarness({ rootDir: tmp });
  ({ db, store, model, deps } = harness);
});

afterAll(() => harness?.close());

describe('report job and source character sets', () => {
  it('writes the multi-valued Japanese name into the SR with all three groups; fails an undecodable one with a reason', async () => {
    const japanese = rewrittenStudy(31, 'japanese');
    const invalid = rewrittenStudy(32, 'invalid');
    for (const f of [...japanese.files, ...invalid.files]) await ingest(f);
    expect(await settleDueStudies(deps, 15_000)).toBe(2);
    const errors = await drain();

    const ok = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: japanese.studyInstanceUid }, include: { reports: true } });
    expect(ok.state).toBe('done');
    const sr = await readFile(store.pathOf(ok.reports[0]!.srStorageKey));
    const back = personName(readPart10(sr).dataset, 'PatientName');
    const source = pydicomText([japanese.files[0]!])[japanese.files[0]!]!.elements.find((e) => e.path[0] === 'PatientName')!.values[0] as string[];
    expect(source).toHaveLength(3);
    expect(back && [back.alphabetic, back.ideographic, back.phonetic]).toEqual(source);

    const failed = await db.study.findUniqueOrThrow({ where: { studyInstanceUid: invalid.studyInstanceUid } });
    expect(failed.state).toBe('failed');
    expect(failed.stateReason).toMatch(/cannot write SR: .*PatientName with Specific Character Set "ISO_IR 192"/);
    expect(failed.stateReason).not.toContain('Doe');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(UnrecoverableError);
    const audit = await listStudyAudit(db, invalid.studyInstanceUid);
    const failing = audit.filter((a) => JSON.stringify(a.details).includes('"failed"'));
    expect(failing).toHaveLength(1);
    expect(JSON.stringify(failing[0]!.details)).toMatch(/PatientName with Specific Character Set/);
    expect(JSON.stringify(failing[0]!.details)).not.toContain('Doe');
  });
});
