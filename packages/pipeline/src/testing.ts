/**
 * Test helpers shared by the pipeline's integration tests: ingest bytes as the SCP would, and run
 * what the queues hold in pipeline order as the workers would (no worker processes).
 */
import { recordReceivedInstance } from '@ldh/db';
import { identifyStoredInstance } from '@ldh/dicom';
import type { LoadedModel } from '@ldh/model';
import type { PipelineDeps } from './deps.js';
import { runInferenceJob } from './inference-job.js';
import { runReportJob, storeBytes } from './report-job.js';
import { runRouteJob } from './route-job.js';

/** Stores bytes as the SCP does (content-addressed file, identity, Instance row); received a minute ago unless told. */
export async function ingestBytes(deps: Pick<PipelineDeps, 'db' | 'store'>, bytes: Uint8Array, receivedAt = new Date(Date.now() - 60_000)) {
  const { storageKey, sha256 } = await storeBytes(deps.store, bytes);
  const id = await identifyStoredInstance(deps.store.pathOf(storageKey));
  return recordReceivedInstance(deps.db, { ...id, sha256, sizeBytes: bytes.byteLength, storageKey, callingAeTitle: 'TEST', receivedAt });
}

const PENDING = ['waiting', 'prioritized'] as const;

/**
 * One round of whatever the route, inference and report queues hold, in pipeline order; returns
 * how many jobs ran. A report job's error goes to `onReportError` when given, else it throws.
 */
export async function drainOnce(deps: PipelineDeps, model: LoadedModel, opts: { onReportError?: (err: unknown) => void } = {}): Promise<number> {
  let ran = 0;
  for (const job of await deps.queues.route.queue.getJobs([...PENDING])) {
    await runRouteJob(job.data, deps);
    await job.remove();
    ran++;
  }
  for (const job of await deps.queues.inference.queue.getJobs([...PENDING])) {
    await runInferenceJob(job.data, { ...deps, model });
    await job.remove();
    ran++;
  }
  for (const job of await deps.queues.report.queue.getJobs([...PENDING])) {
    const run = runReportJob(job.data, { ...deps, identity: { manufacturer: 'test', softwareVersion: '0' } });
    await (opts.onReportError ? run.catch(opts.onReportError) : run);
    await job.remove();
    ran++;
  }
  return ran;
}

/** {@link drainOnce} until the queues are empty. */
export async function drainAll(deps: PipelineDeps, model: LoadedModel, opts: { onReportError?: (err: unknown) => void } = {}): Promise<void> {
  while ((await drainOnce(deps, model, opts)) > 0);
}
