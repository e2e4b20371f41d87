import { z } from 'zod';
import { envFields, parseEnv, priorityRulesSchema, serviceEnvShape } from '@ldh/config';

/** Environment of the worker role (routing + inference). */
export const workerEnvSchema = z.object({
  ...serviceEnvShape,
  /** Model card JSON; default: the newest non-placeholder card in models/, else the placeholder. */
  LDH_MODEL_CARD: z.string().optional(),
  LDH_EXECUTION_PROVIDER: z.enum(['cpu', 'cuda']).default('cpu'),
  LDH_INFERENCE_THREADS: envFields.nonNegativeInt.default(0),
  LDH_INFERENCE_CONCURRENCY: envFields.positiveInt.default(1),
  /** STAT vs routine rules: `Field~regex=stat|routine;...` (see @ldh/config priority.ts). */
  LDH_PRIORITY_RULES: priorityRulesSchema.optional(),
  /** Lease of a running inference run; another worker takes an unrenewed run over after it. */
  LDH_INFERENCE_LEASE_MS: z.coerce.number().int().min(1_000).default(60_000),
});
export type WorkerEnv = z.infer<typeof workerEnvSchema>;

export function loadWorkerEnv(source: Record<string, string | undefined>): WorkerEnv {
  return parseEnv(workerEnvSchema, source);
}
