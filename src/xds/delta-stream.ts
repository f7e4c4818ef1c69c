import { TYPE_URLS } from '../model/index.js';
import { DeltaState, type DeltaRequest, type PlannedDeltaResponse } from './delta-state.js';
import { encodeDeltaDiscoveryResponse } from './delta-wire.js';
import type { ApiSpec } from './services.js';
import { ServedStream, type ServerCall, type StreamContext } from './stream-base.js';

/** An incremental (delta) stream: DeltaAggregatedResources or one per-type Delta service. */
export class DeltaStream extends ServedStream<PlannedDeltaResponse, DeltaState> {
  constructor(ctx: StreamContext, id: string, spec: ApiSpec, call: ServerCall) {
    super(ctx, id, spec, call, new DeltaState({ kinds: spec.kinds, ads: spec.ads, clock: ctx.clock, maxResponseBytes: ctx.maxResponseBytes, nameSlots: ctx.nameSlots, versionSlots: ctx.versionSlots }));
  }

  protected handle(request: object): void {
    const outcome = this.state.handleRequest(request as DeltaRequest);
    if (outcome.type === 'ignored') {
      this.ignored(outcome.reason, (request as DeltaRequest).typeUrl);
      return;
    }
    // Unlike SotW, a stale delta request still changes subscriptions: only its ACK part is void.
    if (outcome.stale) this.ctx.metrics.xdsStaleNonces.inc({ type: outcome.kind });
    this.accepted(outcome);
  }

  protected encode(response: PlannedDeltaResponse): Buffer {
    return encodeDeltaDiscoveryResponse({
      systemVersionInfo: response.systemVersion,
      resources: response.resources.map((resource) => this.ctx.wrappers.get(resource)),
      typeUrl: TYPE_URLS[response.kind],
      removedResources: response.removed,
      nonce: response.nonce,
      controlPlaneId: this.ctx.controlPlaneId,
    }, true);
  }
}
