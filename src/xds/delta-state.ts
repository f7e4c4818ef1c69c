import { kindOfTypeUrl, PUSH_ORDER, type Clock, type ResourceKind } from '../model/index.js';
import type { CachedResource, ResourceView } from '../cache/index.js';
import { ResourceLedger, type ResourceStatus } from './resource-ledger.js';
import type { DeltaOutcome, DeltaRequest, NackInfo, NodeInfo, PlannedDeltaResponse, Subscription, TypeInfo } from './types.js';

export type { DeltaOutcome, DeltaRequest, PlannedDeltaResponse } from './types.js';

/** Types whose first request without names is a (legacy) wildcard subscription. */
const LEGACY_WILDCARD: ReadonlySet<ResourceKind> = new Set(['cluster', 'listener']);
const DEPENDS_ON: Partial<Record<ResourceKind, ResourceKind>> = { endpoint: 'cluster', route: 'listener' };
const DEFAULT_MAX_RESPONSE_BYTES = 2 * 1024 * 1024;

/** What the client holds: seq is undefined when only its version is known (initial_resource_versions). */
interface Known {
  version: string;
  seq: number | undefined;
}

interface TypeState {
  requested: boolean;
  wildcard: boolean;
  legacyWildcard: boolean;
  names: Set<string>;
  known: Map<string, Known>;
  /** Subscribed names the client was told do not exist; told once. */
  toldMissing: Set<string>;
  lastNonce: string | undefined;
  pending: boolean;
  inFlight: { version: string; entries: Array<readonly [string, number]> } | undefined;
  lastSent: { version: string; nonce: string; atMs: number } | undefined;
  ackedVersion: string | undefined;
  lastNack: NackInfo | undefined;
  lastAnswer: 'ack' | 'nack' | undefined;
  /** Answer even when there is nothing to say: a first wildcard request from a client that holds nothing. */
  answerEmpty: boolean;
  dirtyAll: boolean;
  dirtyNames: Set<string>;
  ledger: ResourceLedger;
  counts: TypeInfo['counts'];
}

function newTypeState(): TypeState {
  return {
    requested: false,
    wildcard: false,
    legacyWildcard: false,
    names: new Set(),
    known: new Map(),
    toldMissing: new Set(),
    lastNonce: undefined,
    pending: false,
    inFlight: undefined,
    lastSent: undefined,
    ackedVersion: undefined,
    lastNack: undefined,
    lastAnswer: undefined,
    answerEmpty: false,
    dirtyAll: false,
    dirtyNames: new Set(),
    ledger: new ResourceLedger(),
    counts: { requests: 0, responses: 0, acks: 0, nacks: 0, staleNonces: 0 },
  };
}

export interface DeltaStateOptions {
  kinds: readonly ResourceKind[];
  ads: boolean;
  clock: Clock;
  /** Soft cap on the resource bytes of one response; the rest follows after the ACK. */
  maxResponseBytes?: number;
}

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * The incremental (delta) xDS protocol for one stream, without I/O. Same flow control as
 * SotW: one unACKed response per type, later changes coalesce into the next response. Every
 * response holds only what differs from what the client holds.
 */
export class DeltaState {
  private readonly kinds: ReadonlySet<ResourceKind>;
  private readonly ads: boolean;
  private readonly clock: Clock;
  private readonly maxResponseBytes: number;
  private readonly types = new Map<ResourceKind, TypeState>();
  private nonceCounter = 0;
  private nodeInfo: NodeInfo | undefined;

  constructor(options: DeltaStateOptions) {
    this.kinds = new Set(options.kinds);
    this.ads = options.ads;
    this.clock = options.clock;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  get node(): NodeInfo | undefined {
    return this.nodeInfo;
  }

  handleRequest(request: DeltaRequest): DeltaOutcome {
    if (!this.nodeInfo && request.node) this.nodeInfo = request.node;
    let kind = kindOfTypeUrl(request.typeUrl);
    if (!kind && request.typeUrl === '' && !this.ads && this.kinds.size === 1) kind = [...this.kinds][0];
    if (!kind) return { type: 'ignored', reason: 'unknown_type_url' };
    if (!this.kinds.has(kind)) return { type: 'ignored', reason: 'type_not_served' };

    let state = this.types.get(kind);
    if (!state) this.types.set(kind, (state = newTypeState()));
    state.counts.requests += 1;

    const nonce = request.responseNonce;
    let stale = false;
    let acked: Array<readonly [string, number]> | undefined;
    let nack: NackInfo | undefined;
    if (nonce !== '') {
      if (state.pending && nonce === state.lastNonce) {
        const inFlight = state.inFlight!;
        state.pending = false;
        state.inFlight = undefined;
        const now = this.clock();
        if (request.errorDetail) {
          nack = { version: '', rejectedVersion: inFlight.version, message: request.errorDetail.message, atMs: now };
          state.lastNack = nack;
          state.lastAnswer = 'nack';
          state.counts.nacks += 1;
        } else {
          state.ackedVersion = inFlight.version;
          state.lastAnswer = 'ack';
          state.counts.acks += 1;
          acked = inFlight.entries;
        }
        state.ledger.answered(
          inFlight.entries.map(([name]) => name),
          nack,
          now,
        );
      } else if (nonce !== state.lastNonce) {
        stale = true;
        state.counts.staleNonces += 1;
      }
    }
    const subscriptionChanged = this.updateSubscription(kind, state, request);
    return { type: 'request', kind, stale, acked, nack, subscriptionChanged };
  }

  private wants(kind: ResourceKind, state: TypeState, name: string): boolean {
    // Sidecars subscribe to every listener and must get no API listeners: only named ones are served.
    return state.names.has(name) || (state.wildcard && kind !== 'listener');
  }

  private updateSubscription(kind: ResourceKind, state: TypeState, request: DeltaRequest): boolean {
    const now = this.clock();
    const first = !state.requested;
    let changed = first;
    if (first) {
      state.requested = true;
      for (const [name, version] of Object.entries(request.initialVersions)) state.known.set(name, { version, seq: undefined });
      if (request.subscribe.length === 0 && LEGACY_WILDCARD.has(kind)) {
        state.wildcard = true;
        state.legacyWildcard = true;
      }
      state.dirtyAll = true;
    } else if (state.legacyWildcard && request.subscribe.length > 0) {
      // Naming resources ends the legacy mode but not the wildcard itself; only unsubscribing '*' does.
      state.legacyWildcard = false;
    }

    for (const name of request.subscribe) {
      if (name === '*') {
        if (!state.wildcard) {
          state.wildcard = true;
          state.dirtyAll = true;
          changed = true;
        }
        continue;
      }
      // A (re)subscription gets the resource even if the client had it: Envoy re-subscribes
      // to warm a cluster. Only the first request's initial versions say what it really holds.
      if (!first) state.known.delete(name);
      state.toldMissing.delete(name);
      state.names.add(name);
      state.dirtyNames.add(name);
      state.ledger.requested(name, now);
      changed = true;
    }

    for (const name of request.unsubscribe) {
      if (name === '*') {
        if (!state.wildcard) continue;
        state.wildcard = false;
        state.legacyWildcard = false;
        // The client drops what it held through the wildcard alone; no removal is owed.
        for (const held of [...state.known.keys()]) {
          if (state.names.has(held)) continue;
          state.known.delete(held);
          state.ledger.forget(held);
        }
        changed = true;
        continue;
      }
      if (!state.names.delete(name)) continue;
      state.toldMissing.delete(name);
      changed = true;
      if (this.wants(kind, state, name)) {
        // Still covered by the wildcard: the protocol asks to say again whether it exists.
        if (state.known.has(name)) state.known.set(name, { version: '', seq: undefined });
        state.dirtyNames.add(name);
      } else {
        state.known.delete(name);
        state.dirtyNames.delete(name);
        state.ledger.forget(name);
      }
    }

    if (first) {
      // Versions of resources it did not subscribe to tell nothing this stream will serve.
      for (const name of [...state.known.keys()]) if (!this.wants(kind, state, name)) state.known.delete(name);
      state.answerEmpty = state.wildcard && state.known.size === 0;
    }
    return changed;
  }

  /** Notes that resources changed; returns whether this stream cares. */
  markDirty(kind: ResourceKind, names?: Iterable<string>): boolean {
    const state = this.types.get(kind);
    if (!state?.requested) return false;
    if (names === undefined) {
      state.dirtyAll = true;
      return true;
    }
    let relevant = false;
    for (const name of names) {
      if (!this.wants(kind, state, name) && !state.known.has(name)) continue;
      relevant = true;
      state.dirtyNames.add(name);
    }
    return relevant;
  }

  /** Responses to send now, in ADS push order; each is recorded as sent and unACKed. */
  flush(view: ResourceView): PlannedDeltaResponse[] {
    const out: PlannedDeltaResponse[] = [];
    for (const kind of PUSH_ORDER) {
      const state = this.types.get(kind);
      if (!state?.requested || state.pending || !needsSend(state)) continue;
      const dependency = this.ads ? DEPENDS_ON[kind] : undefined;
      const before = dependency ? this.types.get(dependency) : undefined;
      if (before && before.pending && needsSend(before)) continue;
      const planned = this.build(kind, state, view);
      if (planned) out.push(planned);
    }
    return out;
  }

  private candidates(kind: ResourceKind, state: TypeState, view: ResourceView): Iterable<string> {
    if (!state.dirtyAll) return state.dirtyNames;
    const all = new Set<string>([...state.names, ...state.known.keys()]);
    if (state.wildcard && kind !== 'listener') for (const resource of view.list(kind)) all.add(resource.name);
    return all;
  }

  private build(kind: ResourceKind, state: TypeState, view: ResourceView): PlannedDeltaResponse | undefined {
    const now = this.clock();
    const candidates = this.candidates(kind, state, view);
    const answerEmpty = state.answerEmpty;
    state.answerEmpty = false;
    state.dirtyAll = false;
    state.dirtyNames = new Set();

    const resources: CachedResource[] = [];
    const removed: string[] = [];
    let bytes = 0;
    for (const name of candidates) {
      const resource = view.get(kind, name);
      const held = state.known.get(name);
      if (resource && this.wants(kind, state, name)) {
        if (held && (held.seq === undefined ? held.version === resource.version : held.seq === resource.seq)) {
          held.seq = resource.seq;
          continue;
        }
        if (resources.length > 0 && bytes + resource.any.length > this.maxResponseBytes) {
          state.dirtyNames.add(name);
          continue;
        }
        bytes += resource.any.length;
        resources.push(resource);
        continue;
      }
      const subscribed = state.names.has(name);
      if (held) {
        state.known.delete(name);
        removed.push(name);
        if (subscribed) {
          state.toldMissing.add(name);
          state.ledger.absent(name, now);
        } else {
          state.ledger.forget(name);
        }
      } else if (!resource && subscribed && !state.toldMissing.has(name)) {
        state.toldMissing.add(name);
        removed.push(name);
        state.ledger.absent(name, now);
      }
    }
    if (resources.length === 0 && removed.length === 0 && !answerEmpty) return undefined;

    resources.sort(byName);
    removed.sort();
    for (const resource of resources) {
      state.known.set(resource.name, { version: resource.version, seq: resource.seq });
      state.toldMissing.delete(resource.name);
      state.ledger.sent(resource.name, resource.version, now);
    }
    const version = view.version(kind);
    const nonce = String(++this.nonceCounter);
    state.pending = true;
    state.lastNonce = nonce;
    state.inFlight = { version, entries: resources.map((r) => [r.name, r.seq] as const) };
    state.lastSent = { version, nonce, atMs: now };
    state.counts.responses += 1;
    return { kind, nonce, systemVersion: version, resources, removed };
  }

  subscription(kind: ResourceKind): Subscription | undefined {
    const state = this.types.get(kind);
    // A copy: the index diffs against the previous set, and this one changes in place.
    return state?.requested ? { wildcard: state.wildcard, names: new Set(state.names) } : undefined;
  }

  info(maxNames: number): Partial<Record<ResourceKind, TypeInfo>> {
    const out: Partial<Record<ResourceKind, TypeInfo>> = {};
    for (const [kind, state] of this.types) {
      const dirty = needsSend(state);
      out[kind] = {
        subscription: { wildcard: state.wildcard, names: [...state.names].slice(0, maxNames), nameCount: state.names.size },
        lastSent: state.lastSent,
        ackedVersion: state.ackedVersion,
        pending: state.pending,
        dirty,
        sync: state.pending || dirty ? 'behind' : state.lastAnswer === 'nack' ? 'nacked' : 'synced',
        lastNack: state.lastNack,
        counts: { ...state.counts },
      };
    }
    return out;
  }

  resourceStatuses(view: ResourceView): ResourceStatus[] {
    const out: ResourceStatus[] = [];
    for (const kind of PUSH_ORDER) {
      const state = this.types.get(kind);
      if (state) out.push(...state.ledger.statuses(kind, view));
    }
    return out;
  }
}

function needsSend(state: TypeState): boolean {
  return state.answerEmpty || state.dirtyAll || state.dirtyNames.size > 0;
}
