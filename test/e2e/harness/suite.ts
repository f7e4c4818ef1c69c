import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { KubeCluster } from './cluster.js';
import { ProcessGroup } from './processes.js';
import { applyRbac } from './rbac.js';
import { KubeletStandIn, type NodeSpec } from './kubelet.js';
import type { E2eProvided } from './global-setup.js';

/** Directory of the e2e binaries, or '' when the tier is skipped (see global-setup.ts). */
export function e2eBins(): string {
  // Under the unit-test config there is no global setup: the e2e tier is not part of that run.
  const bins: E2eProvided['e2eBins'] | undefined = inject('e2eBins');
  return bins ?? '';
}

export interface TestCluster {
  kube: KubeCluster;
  kubelet: KubeletStandIn;
  /** Kubeconfig of the `herald` user, bound only to deploy/rbac's ClusterRole. */
  heraldKubeconfig: string;
}

/** Clusters, processes and temp files of one test file; `close()` undoes all of it. */
export class E2eEnv {
  readonly group = new ProcessGroup();
  readonly dir = mkdtempSync(join(tmpdir(), 'herald-e2e-'));
  readonly clusters: TestCluster[] = [];
  private readonly bins: string;

  constructor(bins: string) {
    this.bins = bins;
  }

  /** Starts clusters one after the other (two cores: parallel starts only fight each other). */
  async startClusters(specs: { name: string; nodes: NodeSpec[]; watchCache?: boolean }[]): Promise<TestCluster[]> {
    const started: TestCluster[] = [];
    for (const spec of specs) {
      const kube = await KubeCluster.start({ name: spec.name, bins: this.bins, group: this.group, watchCache: spec.watchCache ?? true });
      const cluster: TestCluster = { kube, kubelet: new KubeletStandIn(kube.core()), heraldKubeconfig: kube.kubeconfigFile('herald') };
      this.clusters.push(cluster);
      await applyRbac(kube);
      for (const node of spec.nodes) await cluster.kubelet.createNode(node);
      started.push(cluster);
    }
    return started;
  }

  async close(): Promise<void> {
    for (const c of this.clusters) c.kubelet.stop();
    // Herald first, so it does not log a storm of errors about the apiservers going away.
    await this.group.stopAll(15_000, (p) => p.name === 'herald');
    await Promise.all(this.clusters.map((c) => c.kube.stop()));
    await this.group.stopAll();
    this.group.dispose();
    if (keepFiles()) process.stderr.write(`e2e: kept ${this.dir} and the clusters' directories (E2E_KEEP)\n`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}

/** E2E_KEEP=1 keeps logs, kubeconfigs and data directories for a post-mortem. */
export function keepFiles(): boolean {
  return process.env.E2E_KEEP === '1';
}
