import { TYPE_URLS, type ResourceKind } from '../model/index.js';
import type { ResourceStatus } from './resource-ledger.js';
import type { NodeInfo } from './stream-state.js';
import { DeltaState, type DeltaRequest } from './delta-state.js';
import { encodeDeltaDiscoveryResponse } from './delta-wire.js';
import type { ApiSpec } from './services.js';
import { ServedStream, type ClientInfo, type ServerCall, type StreamContext } from './stream-base.js';

/** An incremental (delta) stream: DeltaAggregatedResources or one per-type Delta service. */
export class DeltaStream extends ServedStream {
  private readonly state: DeltaState;

  constructor(ctx: StreamContext, id: string, spec: ApiSpec, call: ServerCall) {
    super(ctx, id, spec, call);
    this.state = new DeltaState({ kinds: spec.kinds, ads: spec.ads, clock: ctx.clock, maxResponseBytes: ctx.maxResponseBytes });
  }

  get node(): NodeInfo | undefined {
    return this.state.node;
  }

  protected handle(request: object): void {
    const outcome = this.state.handleRequest(request as DeltaRequest);
    if (outcome.type === 'ignored') {
      this.ignored(outcome.reason, (request as DeltaRequest).typeUrl);
      return;
    }
    const { kind } = outcome;
    if (outcome.stale) this.ctx.metrics.xdsStaleNonces.inc({ type: kind });
    if (outcome.acked && kind === 'endpoint') {
      const acked = outcome.acked;
      this.guard('drains.acked', () => {
        for (const [name, seq] of acked) this.ctx.drains.acked(this.id, name, seq);
      });
    }
    if (outcome.nack) this.nacked(kind, outcome.nack.rejectedVersion, outcome.nack.message);
    if (outcome.subscriptionChanged) {
      const subscription = this.state.subscription(kind);
      if (subscription) this.ctx.index.update(this.id, kind, subscription);
    }
    this.flush();
  }

  markDirty(kind: ResourceKind, names: Iterable<string>): boolean {
    return this.state.markDirty(kind, names);
  }

  flush(): void {
    if (!this.ctx.isReady() || this.closed) return;
    for (const response of this.state.flush(this.ctx.cache)) {
      const bytes = encodeDeltaDiscoveryResponse({
        systemVersionInfo: response.systemVersion,
        resources: response.resources.map((resource) => this.ctx.wrappers.get(resource)),
        typeUrl: TYPE_URLS[response.kind],
        removedResources: response.removed,
        nonce: response.nonce,
        controlPlaneId: this.ctx.controlPlaneId,
      });
      if (!this.write(response.kind, bytes)) return;
      if (response.kind === 'endpoint') {
        this.guard('drains.sent', () => {
          for (const resource of response.resources) this.ctx.drains.sent(this.id, resource.name, resource.seq);
        });
      }
    }
  }

  info(): ClientInfo {
    return {
      id: this.id,
      api: this.api,
      protocol: 'delta',
      peer: this.peer,
      node: this.state.node,
      connectedAtMs: this.connectedAtMs,
      types: this.state.info(this.ctx.maxListedNames),
    };
  }

  resourceStatuses(): ResourceStatus[] {
    return this.state.resourceStatuses(this.ctx.cache);
  }
}
