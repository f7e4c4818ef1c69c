import type { PolicyObject } from '../../src/model/index.js';
import type { PolicySink, PolicySource } from '../../src/sources/types.js';

/** A PolicySource the test drives by hand: each sync is what a (re)list would deliver. */
export class ManualPolicySource implements PolicySource {
  private sink: PolicySink | undefined;

  constructor(readonly name: string) {}

  start(sink: PolicySink): void {
    this.sink = sink;
  }

  async stop(): Promise<void> {
    this.sink = undefined;
  }

  /** The cluster's ServicePolicies are now exactly those of `objects` that belong to it. */
  sync(objects: readonly PolicyObject[]): void {
    if (this.sink === undefined) throw new Error(`policy source ${this.name} not started`);
    this.sink.replacePolicies(
      this.name,
      objects.filter((o) => o.cluster === this.name),
    );
  }

  apply(object: PolicyObject): void {
    this.sink?.applyPolicy(object);
  }
}
