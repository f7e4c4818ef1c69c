export { createLogger, silentLogger, type Logger, type LoggerOptions } from './logger.js';
export { LogOnce } from './log-once.js';
export { HeraldMetrics } from './metrics.js';
