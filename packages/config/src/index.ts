export { createLogger, PHI_KEYS, type Logger } from './logger.js';
export { parseEnv, envFields, defaults, EnvError } from './env.js';
