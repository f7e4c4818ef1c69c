import type { PolicyObject } from '../../model/index.js';
import type { PolicySink, PolicySource } from '../types.js';

/**
 * A simulated kube cluster's ServicePolicies: a fixed list, delivered as one complete list when
 * started, as a kube source's first list would be. They then go through the same validation,
 * resolution and merging as policies read from an apiserver.
 */
export class StaticPolicySource implements PolicySource {
  constructor(
    readonly name: string,
    private readonly objects: readonly PolicyObject[],
  ) {}

  start(sink: PolicySink): void {
    sink.replacePolicies(
      this.name,
      this.objects.filter((o) => o.cluster === this.name),
    );
  }

  async stop(): Promise<void> {}
}
