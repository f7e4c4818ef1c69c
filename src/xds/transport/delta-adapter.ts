import { TYPE_URLS } from '../../model/index.js';
import { DeltaState, type PlannedDeltaResponse } from '../protocol/index.js';
import { encodeDeltaDiscoveryResponse, type DeltaRequest } from '../wire/index.js';
import type { ApiSpec } from './api-specs.js';
import type { HandledRequest, ProtocolAdapter, StreamContext } from './stream-contract.js';

/** An incremental (delta) stream: DeltaAggregatedResources or one per-type Delta service. */
export function deltaAdapter(ctx: StreamContext, spec: ApiSpec): ProtocolAdapter<PlannedDeltaResponse> {
  const state = new DeltaState({
    kinds: spec.kinds,
    ads: spec.ads,
    clock: ctx.clock,
    maxResponseBytes: ctx.maxResponseBytes,
    nameSlots: ctx.nameSlots,
    versionSlots: ctx.versionSlots,
    nonces: ctx.nonces,
    scopes: ctx.scopes,
    perspectives: ctx.perspectives,
  });
  return {
    state,
    namesOver: (request, limit) => {
      const listed = (request as DeltaRequest).subscribe.length;
      return listed > limit ? listed : undefined;
    },
    handle(request: object): HandledRequest {
      const outcome = state.handleRequest(request as DeltaRequest);
      if (outcome.type === 'ignored') return { type: 'ignored', reason: outcome.reason, typeUrl: (request as DeltaRequest).typeUrl };
      // Unlike SotW, a stale delta request still changes subscriptions: only its ACK part is void.
      return { type: 'accepted', outcome, stale: outcome.stale, unknownNonce: outcome.unknownNonce };
    },
    encode: (response) =>
      encodeDeltaDiscoveryResponse(
        {
          systemVersionInfo: response.systemVersion,
          resources: response.resources.map((resource) => ctx.wrappers.get(resource)),
          typeUrl: TYPE_URLS[response.kind],
          removedResources: response.removed,
          nonce: response.nonce,
          controlPlaneId: ctx.controlPlaneId,
        },
        true,
      ),
  };
}
