export { createLogger, PHI_KEYS, type Logger } from './logger.js';
export { parseEnv, envFields, serviceEnvShape, defaults, EnvError, AE_TITLE_PATTERN } from './env.js';
