import { z } from 'zod';
import { defaults, envFields, parseEnv } from '@ldh/config';

/** Environment of the worker role (routing + inference). */
export const workerEnvSchema = z.object({
  DATABASE_URL: envFields.databaseUrl,
  REDIS_URL: envFields.redisUrl.default('redis://127.0.0.1:6379'),
  LOG_LEVEL: envFields.logLevel,
  LDH_QUEUE_PREFIX: envFields.queuePrefix,
  LDH_STORAGE_DIR: z.string().default(defaults.storageDir),
  /** Model card JSON; default: the newest non-placeholder card in models/, else the placeholder. */
  LDH_MODEL_CARD: z.string().optional(),
  LDH_EXECUTION_PROVIDER: z.enum(['cpu', 'cuda']).default('cpu'),
  LDH_INFERENCE_THREADS: z.coerce.number().int().min(0).default(0),
  LDH_INFERENCE_CONCURRENCY: envFields.positiveInt.default(1),
});
export type WorkerEnv = z.infer<typeof workerEnvSchema>;

export function loadWorkerEnv(source: Record<string, string | undefined>): WorkerEnv {
  return parseEnv(workerEnvSchema, source);
}
