// drains: measures how long a DRAINING endpoint takes to reach, and be ACKed by, every stream
// subscribed to its service. It learns sends and ACKs as an observer of the xDS server.
export { DrainTracker, type DrainNotice, type DrainResult, type DrainTrackerOptions, type PendingDrain } from './tracker.js';
