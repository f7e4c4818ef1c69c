import { TYPE_URLS } from '../../model/index.js';
import { SotwState, type PlannedResponse } from '../protocol/index.js';
import { encodeDiscoveryResponse, type XdsRequest } from '../wire/index.js';
import type { ApiSpec } from './api-specs.js';
import type { HandledRequest, ProtocolAdapter, StreamContext } from './served-stream.js';

/** A state-of-the-world stream (ADS or one per-type service). */
export function sotwAdapter(ctx: StreamContext, spec: ApiSpec): ProtocolAdapter<PlannedResponse> {
  const state = new SotwState({
    kinds: spec.kinds,
    ads: spec.ads,
    clock: ctx.clock,
    maxResponseBytes: ctx.maxResponseBytes,
    nameSets: ctx.nameSets,
    responses: ctx.responses,
    nameSlots: ctx.nameSlots,
    versionSlots: ctx.versionSlots,
  });
  const encodeOwn = (response: PlannedResponse): Buffer =>
    encodeDiscoveryResponse(
      {
        versionInfo: response.versionInfo,
        resources: response.resources.map((resource) => resource.any),
        typeUrl: TYPE_URLS[response.kind],
        nonce: response.nonce,
        controlPlaneId: ctx.controlPlaneId,
      },
      true,
    );
  return {
    state,
    handle(request: object): HandledRequest {
      const outcome = state.handleRequest(request as XdsRequest);
      switch (outcome.type) {
        case 'ignored':
          return { type: 'ignored', reason: outcome.reason, typeUrl: (request as XdsRequest).typeUrl };
        case 'stale':
          return outcome;
        case 'request':
          return { type: 'accepted', outcome, stale: false };
      }
    },
    // Streams sent the same content share one nonce and so one encoding.
    encode: (response) => ctx.responses.bytes(response.nonce, () => encodeOwn(response)),
  };
}
