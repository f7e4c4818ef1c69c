// bookkeeping: the per-stream records and the structures streams share to keep them small
// (interned name lists, name slots, encoded responses, kept Nodes). See docs/ARCHITECTURE.md.
export { type KeptNode, KeptNodes, nodeBytes } from './kept-nodes.js';
export { NameSetTable, type SharedNames } from './name-sets.js';
export { NameSlots } from './name-slots.js';
export { ResourceLedger, type ResourceStatus } from './resource-ledger.js';
export { type ResponseCounters, ResponseTally } from './response-tally.js';
export { SentSeqs } from './sent-seqs.js';
export { type BackendsOf, type Scope, type ScopeChange, type ScopeEvents, ScopeTable } from './scopes.js';
export { SharedResponses } from './shared-responses.js';
export {
  DEFAULT_MAX_PERSPECTIVES,
  type HeldPerspective,
  MAX_PERSPECTIVE_FIELD_CHARS,
  type PerspectiveEvents,
  type PerspectiveInfo,
  perspectiveInfo,
  perspectiveOf,
  PerspectiveTable,
} from './perspectives.js';
