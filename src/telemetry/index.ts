export { createLogger, silentLogger, stdoutIsTerminal, type Logger, type LoggerOptions } from './logger.js';
export { LogOnce } from './log-once.js';
export { HeraldMetrics, type PolicyMetricsReader } from './metrics.js';
export { buildInfo, type BuildInfo } from './build-info.js';
