export { startWriter, SOFTWARE_VERSION, type RunningWriter } from './start.js';
export { loadWriterEnv, writerEnvSchema, type WriterEnv } from './env.js';
