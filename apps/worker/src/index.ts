export { startWorker, type RunningWorker } from './start.js';
export { loadWorkerEnv, workerEnvSchema, type WorkerEnv } from './env.js';
export { defaultModelCard, modelsDir } from './default-model.js';
