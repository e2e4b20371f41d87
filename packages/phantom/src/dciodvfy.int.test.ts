import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { generateStudy } from './study.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, RLE_LOSSLESS } from './transfer-syntax.js';

const run = promisify(execFile);
let dir = '';
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** dciodvfy prints its findings on stderr and may exit non-zero on warnings; keep both streams. */
async function dciodvfy(file: string): Promise<string> {
  try {
    const { stdout, stderr } = await run('dciodvfy', [file]);
    return `${stdout}${stderr}`;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: unknown };
    if (e.stdout === undefined && e.stderr === undefined) throw err;
    return `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
}

describe('dciodvfy (dicom3tools) on generated MR images', () => {
  it.each([
    ['explicit VR LE', EXPLICIT_VR_LITTLE_ENDIAN],
    ['implicit VR LE', IMPLICIT_VR_LITTLE_ENDIAN],
    ['RLE lossless', RLE_LOSSLESS],
  ])('finds no errors in %s files of each series', async (_name, ts) => {
    dir ||= await mkdtemp(join(tmpdir(), 'ldh-phantom-dciodvfy-'));
    const study = generateStudy({ seed: 4, matrix: 128, transferSyntaxUid: ts, levels: { 'L4-L5': 'protrusion' } });
    for (const role of ['t1_sag', 't2_sag', 't2_ax'] as const) {
      const inst = study.instances.find((i) => i.role === role);
      if (!inst) throw new Error(`no ${role}`);
      const file = join(dir, `${role}-${ts}.dcm`);
      await writeFile(file, inst.bytes);
      const report = await dciodvfy(file);
      expect(report).toContain('MRImage');
      expect(report.split('\n').filter((l) => /^Error/.test(l))).toEqual([]);
      // Warnings are tolerated but must stay rare; list them when this fails.
      expect(report.split('\n').filter((l) => /^Warning/.test(l))).toEqual([]);
    }
  });
});
