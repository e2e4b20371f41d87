import type { Logger, PriorityRule } from '@ldh/config';
import type { Db } from '@ldh/db';
import type { InstanceStore } from '@ldh/storage';
import type { ContractQueue, deliveryJob, inferenceJob, reportJob, studyRouteJob } from '@ldh/queue';

/** Producers for every queue; each job enqueues the next step through these. */
export interface PipelineQueues {
  route: ContractQueue<typeof studyRouteJob.schema>;
  inference: ContractQueue<typeof inferenceJob.schema>;
  report: ContractQueue<typeof reportJob.schema>;
  delivery: ContractQueue<typeof deliveryJob.schema>;
}

/** What every job needs; apps build one of these at start-up. */
export interface PipelineDeps {
  db: Db;
  store: InstanceStore;
  queues: PipelineQueues;
  logger: Logger;
  /** Audit actor, e.g. "worker@host:pid". */
  actor: string;
  /** STAT vs routine rules (LDH_PRIORITY_RULES), applied at routing; none = routine. */
  priorityRules?: readonly PriorityRule[];
}
