export { AdminServer, parseTarget, type AdminServerOptions } from './server.js';
export { RecentList } from './recent.js';
export { UI_HTML } from './ui.js';
export { assessReadiness, summarizeService, type AdminView, type Readiness, type ReadinessInput, type ServiceSummary } from './view.js';
export { MAX_DRAIN_WAIT_MS, parseDrainQuery, WaiterGate, type DrainAnswer, type PodQuery } from './drain-query.js';
