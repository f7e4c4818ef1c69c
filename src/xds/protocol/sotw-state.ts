import { KINDS, type ResourceKind } from '../../model/index.js';
import type { CachedResource, ResourceView } from '../../cache/index.js';
import type { AckedResource, NackInfo, Subscription } from './types.js';
import type { XdsRequest } from '../wire/index.js';
import { byName, newCommonTypeState, ProtocolStateBase, type CommonTypeState, type IgnoredRequest, type ProtocolStateOptions } from './protocol-base.js';
import { NameSetTable, type SharedNames } from '../bookkeeping/index.js';
import type { SharedResponses } from '../bookkeeping/index.js';
import type { NameSlots } from '../bookkeeping/index.js';
import { SentSeqs } from '../bookkeeping/index.js';

export interface PlannedResponse {
  kind: ResourceKind;
  versionInfo: string;
  nonce: string;
  /** Names this response's content among every stream's (SharedResponses), so its encoding is shared. */
  sharedKey: string | undefined;
  resources: CachedResource[];
}

export type RequestOutcome =
  | IgnoredRequest
  | { type: 'stale'; kind: ResourceKind; unknownNonce: boolean }
  | {
      type: 'request';
      kind: ResourceKind;
      /** Resources of the response this request ACKed. */
      acked: readonly AckedResource[] | undefined;
      nack: NackInfo | undefined;
      subscriptionChanged: boolean;
      /** The nonce was an earlier response's: only the names were taken (see handleRequest). */
      stale?: boolean;
    };

/** A response of more than one resource is a first answer or a resync: size the per-name arrays once (a drain's one resource never needs it). */
const RESERVE_FROM = 2;
/** Full-state kinds: every response carries the whole subscription; an omitted resource is deleted. */
const fullState = (kind: ResourceKind): boolean => KINDS[kind].sotwResponse === 'full-state';

interface TypeState extends CommonTypeState {
  /** Must answer even if the client would learn nothing new (new stream or subscription). */
  force: boolean;
  /** name → seq last sent on this stream: what the client holds (or rejected). */
  sent: SentSeqs;
  /** The interned list behind `names`, when the request's names came encoded. */
  shared: SharedNames | undefined;
}

/** SotW replaces a type's name set on every change, never edits it, so all may start from one. */
const EMPTY: ReadonlySet<string> = new Set();

/** A decoded name list as a Set without '*', and whether '*' was in it. */
function splitWildcard(requested: readonly string[]): [ReadonlySet<string>, boolean] {
  const names = new Set<string>();
  let wildcard = false;
  for (const name of requested) {
    if (name === '*') wildcard = true;
    else names.add(name);
  }
  return [names, wildcard];
}

/**
 * Whether decoded names repeat the subscription exactly, in the order it was taken (an ACK
 * repeats its request's list): then the subscription stands, and no Set is built for it. Any
 * other list, '*' included, goes the long way.
 */
function sameNamesInOrder(requested: readonly string[], state: Pick<TypeState, 'names' | 'wildcard' | 'legacyWildcard'>): boolean {
  if (state.wildcard || state.legacyWildcard || requested.length === 0 || requested.length !== state.names.size) return false;
  let at = 0;
  for (const name of state.names) if (requested[at++] !== name) return false;
  return true;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const item of a) if (!b.has(item)) return false;
  return true;
}

export interface SotwStateOptions extends ProtocolStateOptions {
  /** Shared by every stream of a server, so equal subscriptions share one Set (a private one otherwise). */
  nameSets?: NameSetTable;
  /** Shared by every stream of a server, so equal responses share a nonce and their encoding (per-stream nonces otherwise). */
  responses?: SharedResponses;
}

/**
 * The xDS state-of-the-world protocol for one stream, without I/O: requests go in, responses to
 * send come out of flush(). Flow control: one unACKed response per type; newer state arriving
 * meanwhile only marks the type dirty and is sent, coalesced, once the client answers.
 */
export class SotwState extends ProtocolStateBase<TypeState, PlannedResponse> {
  private readonly nameSets: NameSetTable;
  private readonly responses: SharedResponses | undefined;

  constructor(options: SotwStateOptions) {
    super(options);
    this.nameSets = options.nameSets ?? new NameSetTable();
    this.responses = options.responses;
  }

  protected newTypeState(slots: NameSlots, versionSlots: NameSlots): TypeState {
    return { ...newCommonTypeState(EMPTY, slots, versionSlots), force: false, sent: new SentSeqs(slots), shared: undefined };
  }

  /** Lets go of the shared name lists; the stream is gone. */
  override dispose(): void {
    super.dispose();
    for (const state of this.types.values()) {
      if (state.shared) this.nameSets.release(state.shared);
      state.shared = undefined;
      state.sent.dispose();
    }
  }

  handleRequest(request: XdsRequest): RequestOutcome {
    const accepted = this.accept(request);
    if ('reason' in accepted) return accepted;
    const { kind, state } = accepted;

    const nonce = request.responseNonce;
    // Stale nonce: a request answering an older response than the latest gets no response: https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#resource-updates
    // An empty nonce means the client has seen no response of this type yet; it is never stale.
    // A nonce Herald never sent on this stream is told apart (unknown) and counted.
    const answer = this.answered(state, nonce);
    if (state.lastNonce !== undefined && (answer === 'stale' || answer === 'unknown')) {
      state.counts.staleNonces += 1;
      if (answer === 'unknown') state.counts.unknownNonces += 1;
      // A stale request answers nothing and gets no response, but its names are what the client
      // wants now. A client that drops the last name of a type while a response is on its way
      // (grpc-java, when a channel stops using a cluster) will never answer that response: taking
      // the names, and letting the response go when nothing is left, keeps the stream from
      // waiting on it for ever.
      if (answer === 'stale' && state.pending && this.applyNames(kind, state, request)) {
        if (state.pending && !state.wildcard && state.names.size === 0) {
          state.pending = false;
          state.inFlight = undefined;
        }
        return { type: 'request', kind, acked: undefined, nack: undefined, subscriptionChanged: true, stale: true };
      }
      return { type: 'stale', kind, unknownNonce: answer === 'unknown' };
    }

    let acked: readonly AckedResource[] | undefined;
    let nack: NackInfo | undefined;
    // The request carrying the latest nonce ACKs or NACKs that response: https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#ack-nack-and-resource-type-instance-version
    if (state.pending && answer === 'last') {
      ({ acked, nack } = this.settle(state, request.errorDetail, request.versionInfo));
    }

    const subscriptionChanged = this.applyNames(kind, state, request);
    return { type: 'request', kind, acked, nack, subscriptionChanged };
  }

  /** Takes the request's names as the type's subscription; whether it changed. */
  private applyNames(kind: ResourceKind, state: TypeState, request: XdsRequest): boolean {
    // Same encoded names as the last request (every ACK of an Envoy): the subscription stands.
    const run = request.resourceNamesRun;
    if (run !== undefined && state.requested && state.shared !== undefined && state.shared.run.equals(run)) return false;
    if (run === undefined && state.requested && state.shared === undefined && sameNamesInOrder(request.resourceNames, state)) return false;
    const previous = state.shared;
    const shared = run === undefined ? undefined : this.nameSets.acquire(run, () => request.resourceNames);
    const subscriptionChanged = shared
      ? this.updateSubscription(kind, state, shared.names, shared.hasWildcard)
      : this.updateSubscription(kind, state, ...splitWildcard(request.resourceNames));
    // The Set in use and the entry held stay paired: an equal list in other bytes keeps both.
    const keep = subscriptionChanged ? previous : shared;
    if (subscriptionChanged) state.shared = shared;
    if (keep) this.nameSets.release(keep);
    return subscriptionChanged;
  }

  private updateSubscription(kind: ResourceKind, state: TypeState, requestedNames: ReadonlySet<string>, explicitWildcard: boolean): boolean {
    const first = !state.requested;
    const names = requestedNames;
    let wildcard: boolean;
    // Wildcard: '*' named explicitly, or (legacy, LDS and CDS) a type whose requests never named a resource:
    // https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#how-the-client-specifies-what-resources-to-return
    if (explicitWildcard) wildcard = true;
    else if (names.size === 0) wildcard = KINDS[kind].legacyWildcard && (first || state.legacyWildcard);
    else wildcard = false;
    if (first) state.legacyWildcard = names.size === 0 && !explicitWildcard && KINDS[kind].legacyWildcard;
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
    state.ledger.reserve(names.size);
    for (const name of names) state.ledger.requested(name, now);
    if (fullState(kind) || (wildcard && !state.wildcard)) state.dirtyAll = true;
    else for (const name of names) if (!state.names.has(name)) state.dirtyNames.add(name);
    // A changed subscription is answered, and newly named resources are sent even if unchanged:
    // https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#how-the-client-specifies-what-resources-to-return
    state.force = true;
    state.wildcard = wildcard;
    state.names = names;
    return true;
  }

  protected markNamesDirty(kind: ResourceKind, state: TypeState, names: Iterable<string>): boolean {
    let relevant = false;
    for (const name of names) {
      if (!this.wants(state, name)) continue;
      relevant = true;
      if (fullState(kind)) break;
      state.dirtyNames.add(name);
    }
    if (relevant && fullState(kind)) state.dirtyAll = true;
    return relevant;
  }

  /** The scope gained or lost names the subscription does not name (protocol-base scopeChanged). */
  protected rescoped(kind: ResourceKind, state: TypeState, added: readonly string[], removed: readonly string[]): boolean {
    // A full-state response is rebuilt whole: it lists the gained and leaves out the lost, which the client then deletes.
    if (fullState(kind)) {
      state.dirtyAll = true;
      return true;
    }
    // SotW cannot take an EDS or RDS resource away; forgetting what was sent lets it be sent again should it return.
    for (const name of removed) {
      state.sent.delete(name);
      state.dirtyNames.delete(name);
      state.ledger.forget(name);
    }
    for (const name of added) state.dirtyNames.add(name);
    return added.length > 0;
  }

  /** Whether the subscription covers the name: named, or under a wildcard (within the client's scope). */
  private wants(state: TypeState, name: string): boolean {
    return state.names.has(name) || (state.wildcard && this.inScope(name));
  }

  protected needsSend(state: TypeState): boolean {
    return state.force || state.dirtyAll || state.dirtyNames.size > 0;
  }

  protected build(kind: ResourceKind, state: TypeState, view: ResourceView): PlannedResponse | undefined {
    const force = state.force;
    const candidates = state.dirtyAll ? undefined : state.dirtyNames;
    const now = this.clock();
    state.force = false;
    state.dirtyAll = false;
    state.dirtyNames = new Set();

    let resources: CachedResource[];
    // LDS and CDS responses hold every subscribed resource, EDS and RDS only those that changed: https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#grouping-resources-into-responses
    if (fullState(kind)) {
      const named = !KINDS[kind].wildcardReceives || !state.wildcard;
      // A client that unsubscribed from every name has dropped them itself, and some (grpc-java)
      // never ACK a response for a type they no longer watch: nothing is sent.
      if (named && state.names.size === 0 && !state.wildcard) return undefined;
      resources = named ? this.lookup(kind, state.names, view) : this.scope ? this.lookupScoped(kind, state.names, view) : [...view.list(kind)];
      // The client holds all of it already: no response. https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#when-to-send-an-update
      if (!force && resources.length === state.sent.size && resources.every((r) => state.sent.get(r.name) === r.seq)) {
        return undefined;
      }
      this.recordFullState(state, resources, now);
    } else {
      const names = candidates ?? (!state.wildcard ? state.names : this.scope ? this.scopedNames(state.names) : [...view.list(kind)].map((r) => r.name));
      resources = [];
      let bytes = 0;
      for (const name of names) {
        if (!this.wants(state, name)) continue;
        const resource = view.get(kind, name);
        if (!resource) {
          // SotW has no removal for EDS and RDS resources: https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#deleting-resources
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
      resources.sort(byName);
      if (resources.length >= RESERVE_FROM) {
        state.sent.reserve(resources.length);
        state.ledger.reserve(resources.length);
      }
      for (const r of resources) {
        state.sent.set(r.name, r.seq);
        state.ledger.sent(r.name, r.version, now);
      }
    }

    // version_info is the type's version, one per type: https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#ack-nack-and-resource-type-instance-version
    const version = view.version(kind);
    const nonce = this.recordSent(state, version, resources, now);
    return { kind, versionInfo: version, nonce, sharedKey: this.responses?.keyFor(kind, version, resources), resources };
  }

  /**
   * Makes `sent` exactly the full-state response. Only resources whose content moved are marked
   * sent: an unchanged one keeps its ACK state. An omitted resource is deleted by the client; a
   * named one it can tell does not exist.
   */
  private recordFullState(state: TypeState, resources: readonly CachedResource[], now: number): void {
    const included = new Set<string>();
    state.sent.reserve(resources.length);
    state.ledger.reserve(resources.length);
    for (const r of resources) {
      included.add(r.name);
      if (state.sent.get(r.name) === r.seq) continue;
      state.ledger.sent(r.name, r.version, now);
      state.sent.set(r.name, r.seq);
    }
    // What a full-state response omits, the client deletes: https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#deleting-resources
    for (const name of state.sent.keys()) {
      if (included.has(name)) continue;
      state.sent.delete(name);
      if (!state.names.has(name)) state.ledger.forget(name);
    }
    // A named resource missing from a full-state response does not exist: https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#knowing-when-a-requested-resource-does-not-exist
    for (const name of state.names) if (!included.has(name)) state.ledger.absent(name, now);
  }

  private lookup(kind: ResourceKind, names: ReadonlySet<string>, view: ResourceView): CachedResource[] {
    return this.lookupSorted(kind, [...names].sort(), view);
  }

  /** A scoped wildcard's resources: the scope is kept sorted, so only extra named ones cost a sort. */
  private lookupScoped(kind: ResourceKind, names: ReadonlySet<string>, view: ResourceView): CachedResource[] {
    return names.size === 0 ? this.lookupSorted(kind, this.scope!.sorted, view) : this.lookup(kind, this.scopedNames(names), view);
  }

  private lookupSorted(kind: ResourceKind, sorted: readonly string[], view: ResourceView): CachedResource[] {
    const found: CachedResource[] = [];
    for (const name of sorted) {
      const resource = view.get(kind, name);
      if (resource) found.push(resource);
    }
    return found;
  }

  subscription(kind: ResourceKind): Subscription | undefined {
    const state = this.types.get(kind);
    return state?.requested ? { wildcard: state.wildcard, names: state.names, scope: this.scope?.names } : undefined;
  }
}
