import { kindOfTypeUrl, PUSH_ORDER, type Clock, type ResourceKind } from '../model/index.js';
import type { CachedResource, ResourceView } from '../cache/index.js';
import { ResourceLedger, type ResourceStatus } from './resource-ledger.js';
import type { NackInfo, NodeInfo, Subscription, TypeInfo, XdsRequest } from './types.js';

export type { NackInfo, NodeInfo, Subscription, TypeInfo, XdsRequest } from './types.js';

export interface PlannedResponse {
  kind: ResourceKind;
  versionInfo: string;
  nonce: string;
  resources: CachedResource[];
}

export type RequestOutcome =
  | { type: 'ignored'; reason: 'unknown_type_url' | 'type_not_served' }
  | { type: 'stale'; kind: ResourceKind }
  | {
      type: 'request';
      kind: ResourceKind;
      /** Resources of the response this request ACKed, as [name, seq]. */
      acked: ReadonlyArray<readonly [string, number]> | undefined;
      nack: NackInfo | undefined;
      subscriptionChanged: boolean;
    };

/** Full-state types: every response carries the whole subscription; an omitted resource is deleted. */
const FULL_STATE: ReadonlySet<ResourceKind> = new Set(['cluster', 'listener']);
/** On ADS a type waits while the type it depends on has unsent changes (a cluster before its assignment). */
const DEPENDS_ON: Partial<Record<ResourceKind, ResourceKind>> = { endpoint: 'cluster', route: 'listener' };

interface TypeState {
  requested: boolean;
  wildcard: boolean;
  /** Set by an empty first request; a later named request ends it (xDS legacy wildcard). */
  legacyWildcard: boolean;
  names: ReadonlySet<string>;
  lastNonce: string | undefined;
  lastSent: { version: string; nonce: string; atMs: number } | undefined;
  pending: boolean;
  inFlight: { version: string; entries: Array<readonly [string, number]> } | undefined;
  ackedVersion: string | undefined;
  lastNack: NackInfo | undefined;
  lastAnswer: 'ack' | 'nack' | undefined;
  /** Per-resource record for CSDS. */
  ledger: ResourceLedger;
  /** Must answer even if the client would learn nothing new (new stream or subscription). */
  force: boolean;
  dirtyAll: boolean;
  dirtyNames: Set<string>;
  /** name → seq last sent on this stream: what the client holds (or rejected). */
  sent: Map<string, number>;
  counts: TypeInfo['counts'];
}

const EMPTY: ReadonlySet<string> = new Set();

function newTypeState(): TypeState {
  return {
    requested: false,
    wildcard: false,
    legacyWildcard: false,
    names: EMPTY,
    lastNonce: undefined,
    lastSent: undefined,
    pending: false,
    inFlight: undefined,
    ackedVersion: undefined,
    lastNack: undefined,
    lastAnswer: undefined,
    ledger: new ResourceLedger(),
    force: false,
    dirtyAll: false,
    dirtyNames: new Set(),
    sent: new Map(),
    counts: { requests: 0, responses: 0, acks: 0, nacks: 0, staleNonces: 0 },
  };
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const item of a) if (!b.has(item)) return false;
  return true;
}

export interface StreamStateOptions {
  /** Kinds this stream serves: all four on ADS, one on a per-type service. */
  kinds: readonly ResourceKind[];
  /** Aggregated stream: enforce the cross-type push order. */
  ads: boolean;
  clock: Clock;
  /**
   * Soft cap on the resource bytes of one EDS/RDS response; the rest stays dirty and follows
   * after the ACK. Clients refuse messages over 4 MiB by default. Full-state types cannot split.
   */
  maxResponseBytes?: number;
}

const DEFAULT_MAX_RESPONSE_BYTES = 2 * 1024 * 1024;

/**
 * The xDS state-of-the-world protocol for one stream, without I/O: requests go in, responses to
 * send come out of flush(). Flow control: one unACKed response per type; newer state arriving
 * meanwhile only marks the type dirty and is sent, coalesced, once the client answers.
 */
export class StreamState {
  private readonly kinds: ReadonlySet<ResourceKind>;
  private readonly ads: boolean;
  private readonly clock: Clock;
  private readonly maxResponseBytes: number;
  private readonly types = new Map<ResourceKind, TypeState>();
  private nonceCounter = 0;
  private nodeInfo: NodeInfo | undefined;

  constructor(options: StreamStateOptions) {
    this.kinds = new Set(options.kinds);
    this.ads = options.ads;
    this.clock = options.clock;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  /** The node from the stream's first request that carried one. */
  get node(): NodeInfo | undefined {
    return this.nodeInfo;
  }

  handleRequest(request: XdsRequest): RequestOutcome {
    if (!this.nodeInfo && request.node) this.nodeInfo = request.node;
    let kind = kindOfTypeUrl(request.typeUrl);
    // A per-type service knows its type even when a client leaves type_url out.
    if (!kind && request.typeUrl === '' && !this.ads && this.kinds.size === 1) kind = [...this.kinds][0];
    if (!kind) return { type: 'ignored', reason: 'unknown_type_url' };
    if (!this.kinds.has(kind)) return { type: 'ignored', reason: 'type_not_served' };

    let state = this.types.get(kind);
    if (!state) this.types.set(kind, (state = newTypeState()));
    state.counts.requests += 1;

    const nonce = request.responseNonce;
    // An empty nonce means the client has seen no response of this type yet; it is never stale.
    if (state.lastNonce !== undefined && nonce !== '' && nonce !== state.lastNonce) {
      state.counts.staleNonces += 1;
      return { type: 'stale', kind };
    }

    let acked: Array<readonly [string, number]> | undefined;
    let nack: NackInfo | undefined;
    if (state.pending && nonce !== '' && nonce === state.lastNonce) {
      const inFlight = state.inFlight!;
      state.pending = false;
      state.inFlight = undefined;
      if (request.errorDetail) {
        nack = { version: request.versionInfo, rejectedVersion: inFlight.version, message: request.errorDetail.message, atMs: this.clock() };
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
        this.clock(),
      );
    }

    const subscriptionChanged = this.updateSubscription(kind, state, request.resourceNames);
    return { type: 'request', kind, acked, nack, subscriptionChanged };
  }

  private updateSubscription(kind: ResourceKind, state: TypeState, requested: readonly string[]): boolean {
    const first = !state.requested;
    const explicitWildcard = requested.includes('*');
    const names = new Set(requested.filter((name) => name !== '*'));
    let wildcard: boolean;
    if (explicitWildcard) wildcard = true;
    else if (names.size === 0) wildcard = FULL_STATE.has(kind) && (first || state.legacyWildcard);
    else wildcard = false;
    if (first) state.legacyWildcard = names.size === 0 && !explicitWildcard && FULL_STATE.has(kind);
    else if (names.size > 0 || explicitWildcard) state.legacyWildcard = false;

    const changed = first || wildcard !== state.wildcard || !sameSet(names, state.names);
    state.requested = true;
    if (!changed) return false;

    for (const name of state.names) {
      if (!names.has(name)) {
        state.sent.delete(name);
        state.dirtyNames.delete(name);
        if (!wildcard) state.ledger.forget(name);
      }
    }
    if (!wildcard && state.wildcard) {
      // Leaving wildcard: forget what was sent outside the new named set.
      for (const name of [...state.sent.keys()]) {
        if (names.has(name)) continue;
        state.sent.delete(name);
        state.ledger.forget(name);
      }
    }
    const now = this.clock();
    for (const name of names) state.ledger.requested(name, now);
    if (FULL_STATE.has(kind) || (wildcard && !state.wildcard)) state.dirtyAll = true;
    else for (const name of names) if (!state.names.has(name)) state.dirtyNames.add(name);
    state.force = true;
    state.wildcard = wildcard;
    state.names = names;
    return true;
  }

  /** Notes that resources changed; `names` undefined means anything of the kind. Returns whether this stream cares. */
  markDirty(kind: ResourceKind, names?: Iterable<string>): boolean {
    const state = this.types.get(kind);
    if (!state?.requested) return false;
    if (names === undefined) {
      state.dirtyAll = true;
      return true;
    }
    let relevant = false;
    for (const name of names) {
      if (!state.wildcard && !state.names.has(name)) continue;
      relevant = true;
      if (FULL_STATE.has(kind)) break;
      state.dirtyNames.add(name);
    }
    if (relevant && FULL_STATE.has(kind)) state.dirtyAll = true;
    return relevant;
  }

  /** Responses to send now, in ADS push order; each is recorded as sent and unACKed. */
  flush(view: ResourceView): PlannedResponse[] {
    const out: PlannedResponse[] = [];
    for (const kind of PUSH_ORDER) {
      const state = this.types.get(kind);
      if (!state?.requested || state.pending || !this.needsSend(state)) continue;
      const dependency = this.ads ? DEPENDS_ON[kind] : undefined;
      const before = dependency ? this.types.get(dependency) : undefined;
      if (before && before.pending && this.needsSend(before)) continue;
      const planned = this.build(kind, state, view);
      if (planned) out.push(planned);
    }
    return out;
  }

  private needsSend(state: TypeState): boolean {
    return state.force || state.dirtyAll || state.dirtyNames.size > 0;
  }

  private build(kind: ResourceKind, state: TypeState, view: ResourceView): PlannedResponse | undefined {
    const force = state.force;
    const candidates = state.dirtyAll ? undefined : state.dirtyNames;
    state.force = false;
    state.dirtyAll = false;
    state.dirtyNames = new Set();

    let resources: CachedResource[];
    if (FULL_STATE.has(kind)) {
      // Sidecars ask LDS for everything and must get no API listeners; only named listeners are served.
      const named = kind === 'listener' || !state.wildcard;
      resources = named ? this.lookup(kind, state.names, view) : [...view.list(kind)];
      if (!force && resources.length === state.sent.size && resources.every((r) => state.sent.get(r.name) === r.seq)) {
        return undefined;
      }
      const previous = state.sent;
      state.sent = new Map(resources.map((r) => [r.name, r.seq]));
      this.recordFullState(state, previous, resources);
    } else {
      const names = candidates ?? (state.wildcard ? [...view.list(kind)].map((r) => r.name) : state.names);
      resources = [];
      let bytes = 0;
      for (const name of names) {
        if (!state.wildcard && !state.names.has(name)) continue;
        const resource = view.get(kind, name);
        if (!resource) {
          // SotW cannot remove an assignment; forgetting it lets a re-created one be sent.
          state.sent.delete(name);
          continue;
        }
        if (state.sent.get(name) === resource.seq) continue;
        if (resources.length > 0 && bytes + resource.any.length > this.maxResponseBytes) {
          state.dirtyNames.add(name);
          continue;
        }
        bytes += resource.any.length;
        resources.push(resource);
      }
      if (resources.length === 0) return undefined;
      resources.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const now = this.clock();
      for (const r of resources) {
        state.sent.set(r.name, r.seq);
        state.ledger.sent(r.name, r.version, now);
      }
    }

    const version = view.version(kind);
    const nonce = String(++this.nonceCounter);
    state.pending = true;
    state.lastNonce = nonce;
    state.inFlight = { version, entries: resources.map((r) => [r.name, r.seq] as const) };
    state.lastSent = { version, nonce, atMs: this.clock() };
    state.counts.responses += 1;
    return { kind, versionInfo: version, nonce, resources };
  }

  /**
   * Only resources whose content moved are marked sent: an unchanged one keeps its ACK state.
   * An omitted resource is deleted by the client; a named one it can tell does not exist.
   */
  private recordFullState(state: TypeState, previous: ReadonlyMap<string, number>, resources: readonly CachedResource[]): void {
    const now = this.clock();
    const included = new Set<string>();
    for (const r of resources) {
      included.add(r.name);
      if (previous.get(r.name) !== r.seq) state.ledger.sent(r.name, r.version, now);
    }
    for (const name of previous.keys()) if (!included.has(name) && !state.names.has(name)) state.ledger.forget(name);
    for (const name of state.names) if (!included.has(name)) state.ledger.absent(name, now);
  }

  private lookup(kind: ResourceKind, names: ReadonlySet<string>, view: ResourceView): CachedResource[] {
    const found: CachedResource[] = [];
    for (const name of [...names].sort()) {
      const resource = view.get(kind, name);
      if (resource) found.push(resource);
    }
    return found;
  }

  subscription(kind: ResourceKind): Subscription | undefined {
    const state = this.types.get(kind);
    return state?.requested ? { wildcard: state.wildcard, names: state.names } : undefined;
  }

  requestedKinds(): ResourceKind[] {
    return PUSH_ORDER.filter((kind) => this.types.get(kind)?.requested);
  }

  info(maxNames: number): Partial<Record<ResourceKind, TypeInfo>> {
    const out: Partial<Record<ResourceKind, TypeInfo>> = {};
    for (const [kind, state] of this.types) {
      const dirty = this.needsSend(state);
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
