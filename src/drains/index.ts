// drains: measures how long a DRAINING endpoint takes to reach, and be ACKed by, every stream
// subscribed to its service. It learns sends and ACKs as an observer of the xDS server. It also
// keeps each pod's drain receipts (history, status) and reports them as Kubernetes Events.
export { DrainTracker, type DrainNotice, type DrainResult, type DrainTrackerOptions, type PendingDrain } from './tracker.js';
export { DrainHistory, type DrainRecord } from './history.js';
export { DONE_STATES, FINAL_STATES, podDrainStatus, type DrainState, type PodDrainStatus, type PodFacts, type StatusInput } from './status.js';
export { EventQueue, type AggregatedEvent, type EventQueueOptions } from './event-queue.js';
export { TokenBucket } from './token-bucket.js';
export { drainEventContent, drainEventKey, formatSeconds, type DrainEventContent, type DrainEventReason } from './event-text.js';
export { drainEventBody, kubeEventWriter, microTime, REPORTING_CONTROLLER } from './kube-events.js';
