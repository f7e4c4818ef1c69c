import { TYPE_URLS } from '../../model/index.js';
import { SotwState, type PlannedResponse } from '../protocol/index.js';
import { countFields, encodeSharedResponseHead, nonceField, type XdsRequest } from '../wire/index.js';
import type { ApiSpec } from './api-specs.js';
import type { HandledRequest, ProtocolAdapter, StreamContext } from './stream-contract.js';

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
    nonces: ctx.nonces,
    scopes: ctx.scopes,
    perspectives: ctx.perspectives,
  });
  const encodeHead = (response: PlannedResponse): Buffer =>
    encodeSharedResponseHead({
      versionInfo: response.versionInfo,
      resources: response.resources.map((resource) => resource.any),
      typeUrl: TYPE_URLS[response.kind],
      controlPlaneId: ctx.controlPlaneId,
    });
  return {
    state,
    namesOver: (request, limit) => namesOver(request as XdsRequest, limit),
    handle(request: object): HandledRequest {
      const outcome = state.handleRequest(request as XdsRequest);
      switch (outcome.type) {
        case 'ignored':
          return { type: 'ignored', reason: outcome.reason, typeUrl: (request as XdsRequest).typeUrl };
        case 'stale':
          return outcome;
        case 'request':
          return { type: 'accepted', outcome, stale: outcome.stale === true, unknownNonce: false };
      }
    },
    // Streams sent the same content share its encoding; each adds its own nonce.
    encode: (response) => {
      const head = response.sharedKey === undefined ? encodeHead(response) : ctx.responses.bytes(response.sharedKey, () => encodeHead(response));
      return [head, nonceField(response.nonce)] as const;
    },
  };
}

/**
 * The names a request lists when more than `limit`. Names that came as an encoded run (every
 * ACK of an Envoy) are not turned into strings: each field takes at least two bytes, so a run
 * of n bytes lists at most n/2 names, and only a run that could pass the limit is counted.
 */
function namesOver(request: XdsRequest, limit: number): number | undefined {
  const run = request.resourceNamesRun;
  const count = run === undefined ? request.resourceNames.length : run.length / 2 <= limit ? 0 : countFields(run);
  return count > limit ? count : undefined;
}
