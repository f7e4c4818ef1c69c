import { KINDS, type ResourceKind } from '../../model/index.js';
import type { CachedResource, ResourceView } from '../../cache/index.js';
import type { AckedResource, DeltaOutcome, NackInfo, PlannedDeltaResponse, Subscription } from './types.js';
import type { DeltaRequest } from '../wire/index.js';
import type { NameSlots } from '../bookkeeping/index.js';
import { byName, newCommonTypeState, ProtocolStateBase, type CommonTypeState, type ProtocolStateOptions } from './protocol-base.js';

/** What the client holds: seq is undefined when only its version is known (initial_resource_versions). */
interface Known {
  version: string;
  seq: number | undefined;
}

interface TypeState extends CommonTypeState {
  names: Set<string>;
  known: Map<string, Known>;
  /** Subscribed names the client was told do not exist; told once. */
  toldMissing: Set<string>;
  /** Answer even when there is nothing to say: a first wildcard request from a client that holds nothing. */
  answerEmpty: boolean;
}

export type DeltaStateOptions = ProtocolStateOptions;

/**
 * The incremental (delta) xDS protocol for one stream, without I/O. Same flow control as
 * SotW: one unACKed response per type, later changes coalesce into the next response. Every
 * response holds only what differs from what the client holds.
 */
export class DeltaState extends ProtocolStateBase<TypeState, PlannedDeltaResponse> {
  protected newTypeState(slots: NameSlots, versionSlots: NameSlots): TypeState {
    return { ...newCommonTypeState(new Set<string>(), slots, versionSlots), known: new Map(), toldMissing: new Set(), answerEmpty: false };
  }

  protected needsSend(state: TypeState): boolean {
    return state.answerEmpty || state.dirtyAll || state.dirtyNames.size > 0;
  }

  handleRequest(request: DeltaRequest): DeltaOutcome {
    const accepted = this.accept(request);
    if ('reason' in accepted) return accepted;
    const { kind, state } = accepted;

    let stale = false;
    let acked: readonly AckedResource[] | undefined;
    let nack: NackInfo | undefined;
    // Delta ACK/NACK: error_detail absent or present on the latest nonce. A stale nonce voids only that part;
    // subscription changes still apply. https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#incremental-xds
    const answer = this.answered(state, request.responseNonce);
    if (answer === 'last' && state.pending) {
      // Delta requests carry no version of their own: a NACK names only the rejected one.
      ({ acked, nack } = this.settle(state, request.errorDetail, ''));
    } else if (answer === 'stale' || answer === 'unknown') {
      stale = true;
      state.counts.staleNonces += 1;
      if (answer === 'unknown') state.counts.unknownNonces += 1;
    }
    const subscriptionChanged = this.updateSubscription(kind, state, request);
    return { type: 'request', kind, stale, unknownNonce: answer === 'unknown', acked, nack, subscriptionChanged };
  }

  private wants(kind: ResourceKind, state: TypeState, name: string): boolean {
    return state.names.has(name) || (state.wildcard && KINDS[kind].wildcardReceives && this.inScope(name));
  }

  private updateSubscription(kind: ResourceKind, state: TypeState, request: DeltaRequest): boolean {
    const now = this.clock();
    const first = !state.requested;
    let changed = first;
    if (first) {
      state.requested = true;
      // initial_resource_versions: what a reconnecting client already holds is not sent again. https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#incremental-xds
      for (const [name, version] of Object.entries(request.initialVersions)) state.known.set(name, { version, seq: undefined });
      // Legacy wildcard: a first request that subscribes to nothing. https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#how-the-client-specifies-what-resources-to-return
      if (request.subscribe.length === 0 && KINDS[kind].legacyWildcard) {
        state.wildcard = true;
        state.legacyWildcard = true;
      }
      state.dirtyAll = true;
    } else if (state.legacyWildcard && request.subscribe.length > 0) {
      // Naming resources ends the legacy mode but not the wildcard itself; only unsubscribing '*' does.
      state.legacyWildcard = false;
    }

    for (const name of request.subscribe) {
      // Explicit wildcard: subscribing to '*'. https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#how-the-client-specifies-what-resources-to-return
      if (name === '*') {
        if (!state.wildcard) {
          state.wildcard = true;
          state.dirtyAll = true;
          changed = true;
        }
        continue;
      }
      // Every subscription is answered with the resource: https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#subscribing-to-resources
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
      // Unsubscribing from '*' ends the wildcard, legacy or explicit. https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#how-the-client-specifies-what-resources-to-return
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
      // Unsubscribing from a name the wildcard still covers is answered with the resource or its removal:
      // https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#xds-protocol-unsubscribe (Incremental xDS, Unsubscribing from Resources)
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

  protected markNamesDirty(kind: ResourceKind, state: TypeState, names: Iterable<string>): boolean {
    let relevant = false;
    for (const name of names) {
      if (!this.wants(kind, state, name) && !state.known.has(name)) continue;
      relevant = true;
      state.dirtyNames.add(name);
    }
    return relevant;
  }

  /**
   * The scope gained or lost names the subscription does not name (protocol-base scopeChanged):
   * each is looked at again, so a gained one that exists is sent and a lost one the client holds
   * goes into removed_resources.
   */
  protected rescoped(_kind: ResourceKind, state: TypeState, added: readonly string[], removed: readonly string[]): boolean {
    for (const name of added) state.dirtyNames.add(name);
    for (const name of removed) state.dirtyNames.add(name);
    return true;
  }

  private candidates(kind: ResourceKind, state: TypeState, view: ResourceView): Iterable<string> {
    if (!state.dirtyAll) return state.dirtyNames;
    const all = new Set<string>([...state.names, ...state.known.keys()]);
    if (state.wildcard && KINDS[kind].wildcardReceives) {
      if (this.scope) for (const name of this.scope.names) all.add(name);
      else for (const resource of view.list(kind)) all.add(resource.name);
    }
    return all;
  }

  protected build(kind: ResourceKind, state: TypeState, view: ResourceView): PlannedDeltaResponse | undefined {
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
      // removed_resources: what the client holds and may no longer have, and subscribed names that do not exist:
      // https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#deleting-resources
      // https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#incremental-xds (Knowing When a Requested Resource Does Not Exist)
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
    const nonce = this.recordSent(state, version, resources, now);
    return { kind, nonce, systemVersion: version, resources, removed };
  }

  subscription(kind: ResourceKind): Subscription | undefined {
    const state = this.types.get(kind);
    // A copy: the index diffs against the previous set, and this one changes in place.
    return state?.requested ? { wildcard: state.wildcard, names: new Set(state.names), scope: this.scope?.names } : undefined;
  }
}
