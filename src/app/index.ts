export { ListenError, startDaemon, type Daemon, type DaemonOptions, type DaemonDeps, type DrainListener, type RecentDrain } from './daemon.js';
export { PolicyStatusWriter, type PolicyStatusOptions, type PolicyStatusWrite } from './policy-status.js';
export { InitialSyncGate, type GateState } from './sync-gate.js';
export { noSplitBackends, PolicyScopeExpansion, type EffectivePolicies, type SplitBackends } from './scope-expansion.js';
