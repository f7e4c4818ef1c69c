export { AdminServer, parseTarget, type AdminServerOptions } from './server.js';
export {
  assessReadiness,
  summarizeService,
  type AdminView,
  type Readiness,
  type ReadinessInput,
  type ServiceSummary,
} from './view.js';
