import { ContractQueue, deliveryJob, inferenceJob, reportJob, studyRouteJob, type QueueContext } from '@ldh/queue';
import type { PipelineQueues } from './deps.js';

/** Producers for all pipeline queues on one connection/prefix. */
export function createPipelineQueues(ctx: QueueContext): PipelineQueues {
  return {
    route: new ContractQueue(studyRouteJob, ctx),
    inference: new ContractQueue(inferenceJob, ctx),
    report: new ContractQueue(reportJob, ctx),
    delivery: new ContractQueue(deliveryJob, ctx),
  };
}

export async function closePipelineQueues(q: PipelineQueues): Promise<void> {
  await Promise.all([q.route.close(), q.inference.close(), q.report.close(), q.delivery.close()]);
}
