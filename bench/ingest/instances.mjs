// Test instances shared by the ingest benchmarks (ingest.mjs, latency.mjs).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildTestMrInstance, newUid } from '@ldh/dicom';

/** `count` MR instances of rows×rows×16 bit (0.5 MB at 512), one new study: fresh UIDs per set so no receiver dedupes. */
export async function makeSet(dir, count, rows = 512) {
  await mkdir(dir, { recursive: true });
  const study = newUid();
  const series = newUid();
  const files = [];
  for (let i = 0; i < count; i++) {
    const f = join(dir, `i${String(i).padStart(5, '0')}.dcm`);
    await writeFile(f, buildTestMrInstance({ rows, columns: rows, instanceNumber: i + 1, studyInstanceUid: study, seriesInstanceUid: series }));
    files.push(f);
  }
  return files;
}
