import { TYPE_URLS } from '../model/index.js';
import { StreamState, type PlannedResponse, type XdsRequest } from './stream-state.js';
import { ServedStream, type ServerCall, type StreamContext } from './stream-base.js';
import type { ApiSpec } from './services.js';
import { encodeDiscoveryResponse } from './wire.js';

/** A state-of-the-world stream (ADS or one per-type service). */
export class SotwStream extends ServedStream<PlannedResponse, StreamState> {
  constructor(ctx: StreamContext, id: string, spec: ApiSpec, call: ServerCall) {
    super(ctx, id, spec, call, new StreamState({ kinds: spec.kinds, ads: spec.ads, clock: ctx.clock, maxResponseBytes: ctx.maxResponseBytes, nameSets: ctx.nameSets, responses: ctx.responses, nameSlots: ctx.nameSlots, versionSlots: ctx.versionSlots }));
  }

  protected handle(request: object): void {
    const outcome = this.state.handleRequest(request as XdsRequest);
    switch (outcome.type) {
      case 'ignored':
        this.ignored(outcome.reason, (request as XdsRequest).typeUrl);
        return;
      case 'stale':
        this.ctx.metrics.xdsStaleNonces.inc({ type: outcome.kind });
        return;
      case 'request':
        this.accepted(outcome);
    }
  }

  protected encode(response: PlannedResponse): Buffer {
    return this.ctx.responses.bytes(response.nonce, () => this.encodeOwn(response));
  }

  private encodeOwn(response: PlannedResponse): Buffer {
    return encodeDiscoveryResponse({
      versionInfo: response.versionInfo,
      resources: response.resources.map((resource) => resource.any),
      typeUrl: TYPE_URLS[response.kind],
      nonce: response.nonce,
      controlPlaneId: this.ctx.controlPlaneId,
    }, true);
  }
}
