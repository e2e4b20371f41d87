export { createLogger, PHI_KEYS, type Logger } from './logger.js';
