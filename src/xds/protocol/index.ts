// protocol: the SotW and Delta state machines, one per stream, without I/O: what a request
// changes, what is due, what an ACK settles; and the server-wide index of who subscribes to what.
export { DeltaState } from './delta-state.js';
export { type NameSlotsByKind, newNameSlotsByKind } from './protocol-base.js';
export { type PlannedResponse, SotwState } from './sotw-state.js';
export { SubscriptionIndex } from './subscription-index.js';
export type { AckedResource, NackInfo, PlannedDeltaResponse, Subscription, TypeInfo } from './types.js';
export { NonceSource } from './nonces.js';
