export { startScp, type RunningScp } from './start.js';
export { loadScpEnv, scpEnvSchema, type ScpEnv } from './env.js';
