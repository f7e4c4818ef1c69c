// The transport's log-once helper lives with the logger, where the admin server uses it too.
export { LogOnce } from '../../telemetry/index.js';
