export { createLogger, PHI_KEYS, type Logger } from './logger.js';
export { parseEnv, envFields, serviceEnvShape, defaults, EnvError, AE_TITLE_PATTERN } from './env.js';
export { priorityRulesSchema, evaluatePriority, PRIORITY_FIELDS, type PriorityRule, type PriorityField } from './priority.js';
