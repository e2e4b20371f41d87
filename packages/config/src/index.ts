export { createLogger, rateLimitedLog, PHI_KEYS, type Logger, type RateLimitedLog } from './logger.js';
export { parseEnv, integerIn, dedupeIssues, tlsAllOrNothing, envFields, serviceEnvShape, defaults, EnvError, AE_TITLE_PATTERN, LOG_LEVELS, type LogLevel, type EnvIssue, type EnvCheck } from './env.js';
export { priorityRulesSchema, evaluatePriority, PRIORITY_FIELDS, type PriorityRule, type PriorityField } from './priority.js';
