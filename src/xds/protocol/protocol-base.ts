// What the SotW (SotwState) and Delta (DeltaState) protocol machines share: the per-stream
// settings, the per-type bookkeeping of ACK/NACK and flow control, nonce minting, the ADS
// push order, and the read-outs for admin and CSDS. Each subclass keeps what differs: how a
// request changes the subscription and what a response holds.
import { DEFAULT_PERSPECTIVE, KINDS, KUBE_CLUSTER_METADATA, kindOfTypeUrl, perKind, PUSH_ORDER, type Clock, type Perspective, type ResourceKind } from '../../model/index.js';
import type { CachedResource, ResourceView } from '../../cache/index.js';
import { ResourceLedger, type ResourceStatus } from '../bookkeeping/index.js';
import { NameSlots, perspectiveOf, PerspectiveTable, ScopeTable, type HeldPerspective, type Scope } from '../bookkeeping/index.js';
import { NonceSource } from './nonces.js';
import type { AckedResource, NackInfo, TypeInfo } from './types.js';
import type { NodeInfo } from '../wire/index.js';

export interface ProtocolStateOptions {
  /** Kinds this stream serves: all four on ADS, one on a per-type service. */
  kinds: readonly ResourceKind[];
  /** Aggregated stream: enforce the cross-type push order. */
  ads: boolean;
  clock: Clock;
  /**
   * Soft cap on the resource bytes of one response; the rest stays dirty and follows after
   * the ACK. Clients refuse messages over 4 MiB by default. Full-state SotW types cannot split.
   */
  maxResponseBytes?: number;
  /** Per-kind name registries shared by every stream of a server (private ones otherwise). */
  nameSlots?: NameSlotsByKind;
  /** Per-kind registries of the resource versions CSDS records point at, shared likewise. */
  versionSlots?: NameSlotsByKind;
  /** Where response nonces come from (a private source otherwise). */
  nonces?: NonceSource;
  /** Declared dependency lists shared by every stream of a server (a private table otherwise). */
  scopes?: ScopeTable;
  /** Declared perspectives shared by every stream of a server (a private table otherwise). */
  perspectives?: PerspectiveTable;
}

export type NameSlotsByKind = Record<ResourceKind, NameSlots>;

export function newNameSlotsByKind(): NameSlotsByKind {
  return perKind(() => new NameSlots());
}

/** The perspective of a stream that has sent no Node yet. */
const DEFAULT_HELD: HeldPerspective = { perspective: DEFAULT_PERSPECTIVE, key: '' };

const DEFAULT_MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
/** Earlier nonces remembered per type, to tell a late answer (stale) from a nonce never sent (unknown). */
const EARLIER_NONCES_KEPT = 4;

/** Per-type state both protocols keep; each protocol extends it with its own fields. */
export interface CommonTypeState {
  requested: boolean;
  wildcard: boolean;
  /** Set by an empty first request on a full-state type (xDS legacy wildcard). */
  legacyWildcard: boolean;
  names: ReadonlySet<string>;
  lastNonce: string | undefined;
  /** The nonces sent before lastNonce, newest last (a few): an answer to one of them is stale, to anything else unknown. */
  earlierNonces: string[] | undefined;
  lastSent: { version: string; nonce: string; atMs: number } | undefined;
  pending: boolean;
  /** The unACKed response: its version and the resources it carried (the planner's own array, never changed after). */
  inFlight: { version: string; resources: readonly CachedResource[] } | undefined;
  ackedVersion: string | undefined;
  lastNack: NackInfo | undefined;
  lastAnswer: 'ack' | 'nack' | undefined;
  /** Per-resource record for CSDS. */
  ledger: ResourceLedger;
  dirtyAll: boolean;
  dirtyNames: Set<string>;
  counts: TypeInfo['counts'];
}

/** The common fields of a type nobody has asked for yet; `names` is the protocol's own choice. */
export function newCommonTypeState<N extends ReadonlySet<string>>(names: N, slots: NameSlots, versionSlots: NameSlots): CommonTypeState & { names: N } {
  return {
    requested: false,
    wildcard: false,
    legacyWildcard: false,
    names,
    lastNonce: undefined,
    earlierNonces: undefined,
    lastSent: undefined,
    pending: false,
    inFlight: undefined,
    ackedVersion: undefined,
    lastNack: undefined,
    lastAnswer: undefined,
    ledger: new ResourceLedger(slots, versionSlots),
    dirtyAll: false,
    dirtyNames: new Set(),
    counts: { requests: 0, responses: 0, acks: 0, nacks: 0, staleNonces: 0, unknownNonces: 0 },
  };
}

/** What the client's answer to the pending response settled. */
export interface Answer {
  /** Resources of the response this request ACKed. */
  acked: readonly AckedResource[] | undefined;
  nack: NackInfo | undefined;
}

export const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Where a Node says its client stands: the kube cluster in its metadata, its zone, and whether it ignores overprovisioning. */
function declaredPerspectiveOf(node: NodeInfo): Perspective {
  return perspectiveOf(node.heraldMetadata?.[KUBE_CLUSTER_METADATA], node.locality?.zone, node.ignoresOverprovisioning === true);
}

/** The request fields needed to find which type a request is about. */
interface TypedRequest {
  node: NodeInfo | undefined;
  typeUrl: string;
}

export type IgnoredRequest = { type: 'ignored'; reason: 'unknown_type_url' | 'type_not_served' };

export abstract class ProtocolStateBase<S extends CommonTypeState, Planned> {
  protected readonly kinds: ReadonlySet<ResourceKind>;
  protected readonly ads: boolean;
  protected readonly clock: Clock;
  protected readonly maxResponseBytes: number;
  private readonly nameSlots: NameSlotsByKind;
  private readonly versionSlots: NameSlotsByKind;
  protected readonly types = new Map<ResourceKind, S>();
  /** The same states in PUSH_ORDER, for flush(): a drain flushes every stream, and most hold two types. */
  private readonly pushOrdered: { kind: ResourceKind; state: S }[] = [];
  private readonly nonces: NonceSource;
  private readonly scopes: ScopeTable;
  private readonly perspectives: PerspectiveTable;
  private perspectiveHeld: HeldPerspective | undefined;
  private nodeInfo: NodeInfo | undefined;
  private sawRequest = false;
  private scopeHeld: Scope | undefined;

  constructor(options: ProtocolStateOptions) {
    this.kinds = new Set(options.kinds);
    this.ads = options.ads;
    this.clock = options.clock;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.nameSlots = options.nameSlots ?? newNameSlotsByKind();
    this.versionSlots = options.versionSlots ?? newNameSlotsByKind();
    this.nonces = options.nonces ?? new NonceSource();
    this.scopes = options.scopes ?? new ScopeTable();
    this.perspectives = options.perspectives ?? new PerspectiveTable();
  }

  /**
   * Where the client stands (its kube cluster and zone), from the Node of its first request:
   * the cache variants it reads. Fixed for the stream's life, like the scope.
   */
  get perspective(): HeldPerspective {
    return this.perspectiveHeld ?? DEFAULT_HELD;
  }

  /**
   * The perspective the client's first Node declared, whether or not it got it (see `perspective`).
   * Read for /debug only, so worked out again from the kept Node rather than held per stream; a
   * held perspective means the first request carried that Node.
   */
  get declaredPerspective(): Perspective {
    return this.perspectiveHeld && this.nodeInfo ? declaredPerspectiveOf(this.nodeInfo) : DEFAULT_PERSPECTIVE;
  }

  /**
   * The services the client declared it calls, from the Node of its first request; undefined
   * when it declared none. Fixed for the stream's life: a client changes it by reconnecting.
   */
  get scope(): Scope | undefined {
    return this.scopeHeld;
  }

  /** Whether a wildcard subscription covers the name: any name, or one in the client's scope (declared, or routed to by a declared one). */
  protected inScope(name: string): boolean {
    return this.scopeHeld === undefined || this.scopeHeld.names.has(name);
  }

  /** The names a scoped wildcard subscription with these named ones covers (the scope's own Set when it names none). */
  protected scopedNames(names: ReadonlySet<string>): ReadonlySet<string> {
    const scope = this.scopeHeld!.names;
    return names.size === 0 ? scope : new Set([...scope, ...names]);
  }

  /**
   * What a request's nonce answers (https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#resource-updates):
   * the last response sent, an earlier one (stale), or none Herald sent on this stream (unknown:
   * a guessed or forged nonce, or one too old to remember). '' answers nothing.
   */
  protected answered(state: S, nonce: string): 'none' | 'last' | 'stale' | 'unknown' {
    if (nonce === '') return 'none';
    if (nonce === state.lastNonce) return 'last';
    return state.earlierNonces?.includes(nonce) ? 'stale' : 'unknown';
  }

  /** `slots` and `versionSlots`: the kind's shared name and version registries, for its ledger and records. */
  protected abstract newTypeState(slots: NameSlots, versionSlots: NameSlots): S;
  /** Whether the type has something to send (or must answer anyway). */
  protected abstract needsSend(state: S): boolean;
  /** Marks the named resources of a requested type dirty; returns whether any concerns this stream. */
  protected abstract markNamesDirty(kind: ResourceKind, state: S, names: Iterable<string>): boolean;
  /**
   * The scope of a wildcard type that receives scoped resources gained or lost names it does not
   * name itself: what the next response must add or take away. Returns whether one is due.
   */
  protected abstract rescoped(kind: ResourceKind, state: S, added: readonly string[], removed: readonly string[]): boolean;
  /** Plans the next response of one type and records it as sent; undefined when there is nothing to say. */
  protected abstract build(kind: ResourceKind, state: S, view: ResourceView): Planned | undefined;

  /** The node from the stream's first request that carried one. */
  get node(): NodeInfo | undefined {
    return this.nodeInfo;
  }

  /**
   * Notes the node, resolves the request's type and counts the request against it; an
   * ignored outcome when the type is unknown or not served on this stream.
   */
  protected accept(request: TypedRequest): { kind: ResourceKind; state: S } | IgnoredRequest {
    if (!this.nodeInfo && request.node) this.nodeInfo = request.node;
    if (!this.sawRequest) {
      // Only the first request may scope the stream: a scope arriving later would change what
      // subscriptions already answered cover.
      this.sawRequest = true;
      const declared = request.node?.dependencies;
      if (declared) {
        this.scopeHeld = this.scopes.acquire(declared);
        // The same names, sorted, each once: the stream keeps the scope's shared list rather than its own copy.
        const kept = this.nodeInfo;
        if (kept && kept === request.node) this.nodeInfo = { ...kept, dependencies: this.scopeHeld.declared };
      }
      const node = request.node;
      if (node) this.perspectiveHeld = this.perspectives.acquire(declaredPerspectiveOf(node));
    }
    let kind = kindOfTypeUrl(request.typeUrl);
    // A per-type service knows its type even when a client leaves type_url out.
    if (!kind && request.typeUrl === '' && !this.ads && this.kinds.size === 1) kind = [...this.kinds][0];
    if (!kind) return { type: 'ignored', reason: 'unknown_type_url' };
    if (!this.kinds.has(kind)) return { type: 'ignored', reason: 'type_not_served' };

    let state = this.types.get(kind);
    if (!state) {
      state = this.newTypeState(this.nameSlots[kind], this.versionSlots[kind]);
      this.types.set(kind, state);
      const rank = PUSH_ORDER.indexOf(kind);
      const at = this.pushOrdered.findIndex((entry) => PUSH_ORDER.indexOf(entry.kind) > rank);
      this.pushOrdered.splice(at < 0 ? this.pushOrdered.length : at, 0, { kind, state });
    }
    state.counts.requests += 1;
    return { kind, state };
  }

  /**
   * Settles the pending response with the client's ACK or NACK. Call only when the request
   * carries the pending response's nonce. `clientVersion` is the version the client says it
   * runs, recorded with a NACK.
   */
  protected settle(state: S, errorDetail: { message: string } | undefined, clientVersion: string): Answer {
    const inFlight = state.inFlight!;
    state.pending = false;
    state.inFlight = undefined;
    const now = this.clock();
    let acked: Answer['acked'];
    let nack: NackInfo | undefined;
    // NACK = error_detail present, whatever version_info says; ACK otherwise: https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#ack-and-nack-semantics-summary
    if (errorDetail) {
      nack = { version: clientVersion, rejectedVersion: inFlight.version, message: errorDetail.message, atMs: now };
      state.lastNack = nack;
      state.lastAnswer = 'nack';
      state.counts.nacks += 1;
    } else {
      state.ackedVersion = inFlight.version;
      state.lastAnswer = 'ack';
      state.counts.acks += 1;
      acked = inFlight.resources;
    }
    state.ledger.answered(inFlight.resources, nack, now);
    return { acked, nack };
  }

  /** Mints the (random) nonce of a response about to go out and marks it unACKed. */
  protected recordSent(state: S, version: string, resources: readonly CachedResource[], atMs: number): string {
    // Nonces: every response carries one, and the client echoes the latest in its next request: https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#basic-protocol-overview
    const nonce = this.nonces.next();
    state.pending = true;
    if (state.lastNonce !== undefined) {
      const earlier = (state.earlierNonces ??= []);
      if (earlier.length === EARLIER_NONCES_KEPT) earlier.shift();
      earlier.push(state.lastNonce);
    }
    state.lastNonce = nonce;
    // The array itself, not a copy: a connect storm would otherwise copy streams × resources entries.
    // A client that never answers keeps these versions' bytes alive until it answers or goes,
    // at most one response per type; one that stops reading holds its unsent response anyway.
    state.inFlight = { version, resources };
    state.lastSent = { version, nonce, atMs };
    state.counts.responses += 1;
    return nonce;
  }

  /** Notes that resources changed; `names` undefined means anything of the kind. Returns whether this stream cares. */
  markDirty(kind: ResourceKind, names?: Iterable<string>): boolean {
    const state = this.types.get(kind);
    if (!state?.requested) return false;
    if (names === undefined) {
      state.dirtyAll = true;
      return true;
    }
    return this.markNamesDirty(kind, state, names);
  }

  /**
   * The stream's shared scope gained and lost these names because a declared service's routes
   * changed (Herald's doing, not the client's): its wildcard subscriptions take the new names and
   * drop the old ones in their next responses. Returns whether a response is due.
   */
  scopeChanged(added: readonly string[], removed: readonly string[]): boolean {
    if (this.scopeHeld === undefined) return false;
    let due = false;
    for (const [kind, state] of this.types) {
      if (!state.requested || !state.wildcard || !KINDS[kind].wildcardReceives) continue;
      const named = (name: string): boolean => state.names.has(name);
      const gained = added.filter((name) => !named(name));
      const lost = removed.filter((name) => !named(name));
      if ((gained.length > 0 || lost.length > 0) && this.rescoped(kind, state, gained, lost)) due = true;
    }
    return due;
  }

  /** Responses to send now, in ADS push order; each is recorded as sent and unACKed. */
  flush(view: ResourceView): Planned[] {
    const out: Planned[] = [];
    for (const { kind, state } of this.pushOrdered) {
      // Flow control: one unACKed response per type, since the client ACKs or NACKs each response; what changed
      // meanwhile goes out in one response after that answer. https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#ack-and-nack-semantics-summary
      if (!state.requested || state.pending || !this.needsSend(state)) continue;
      // ADS ordering, make before break (CDS before EDS, LDS before RDS): https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#eventual-consistency-considerations
      // On ADS a kind waits while the kind it depends on has unsent changes (a cluster before its assignment).
      const dependency = this.ads ? KINDS[kind].after : undefined;
      const before = dependency ? this.types.get(dependency) : undefined;
      if (before && before.pending && this.needsSend(before)) continue;
      const planned = this.build(kind, state, view);
      if (planned) out.push(planned);
    }
    return out;
  }

  /**
   * Resource names subscribed, summed over types, plus the names the client declared it calls.
   * Backends a declared service routes to are not counted: they are Herald's doing, and a policy
   * change must not push a client over a limit it never approached.
   */
  nameCount(): number {
    let count = this.scopeHeld?.declared.length ?? 0;
    for (const state of this.types.values()) count += state.names.size;
    return count;
  }

  /** Lets go of whatever the stream holds in structures shared with other streams; it is gone. */
  dispose(): void {
    for (const state of this.types.values()) state.ledger.dispose();
    if (this.scopeHeld) this.scopes.release(this.scopeHeld);
    this.scopeHeld = undefined;
    if (this.perspectiveHeld) this.perspectives.release(this.perspectiveHeld);
    this.perspectiveHeld = undefined;
  }

  info(maxNames: number): Partial<Record<ResourceKind, TypeInfo>> {
    const out: Partial<Record<ResourceKind, TypeInfo>> = {};
    for (const [kind, state] of this.types) {
      const dirty = this.needsSend(state);
      out[kind] = {
        subscription: { wildcard: state.wildcard, names: [...state.names].slice(0, maxNames), nameCount: state.names.size },
        lastSent: state.lastSent && { version: state.lastSent.version, atMs: state.lastSent.atMs },
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

  /**
   * Every resource's status, kind by kind in push order, one at a time: a client may hold any
   * number of names, so CSDS walks them in slices (one array of them all, spread into push(),
   * overflowed the stack).
   */
  *resourceStatuses(view: ResourceView): Generator<ResourceStatus, void, undefined> {
    for (const kind of PUSH_ORDER) {
      const state = this.types.get(kind);
      if (state) yield* state.ledger.eachStatus(kind, view);
    }
  }
}
