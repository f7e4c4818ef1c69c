// Issue 6: what deploy/ renders is accepted by a real kube-apiserver. Every object of the base,
// the cluster-b overlay, the example sidecar and the Helm chart (issue 21: defaults, and every
// optional part on, its ServiceMonitor against a stand-in CRD) goes through server-side apply with
// dryRun=All as the admin user, so the apiserver's own validation and admission run on it
// while nothing is stored. A negative control proves the dry run really validates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { renderDeploy } from '../deploy/kustomize.js';
import { renderChart } from '../deploy/helm.js';
import { KubeCluster } from './harness/cluster.js';
import { eventually, ProcessGroup } from './harness/processes.js';
import { e2eBins } from './harness/suite.js';

const bins = e2eBins();
const FIELD_MANAGER = 'herald-ci';
const RENDERS = ['base', 'overlays/cluster-b', 'examples/sidecar'] as const;
const CHARTS: Record<string, Record<string, unknown>> = {
  'charts/herald (defaults)': {},
  'charts/herald (every option)': {
    image: { repository: 'registry.example/herald', tag: '0.1.0' },
    imagePullSecrets: [{ name: 'registry' }],
    remoteClusters: [{ name: 'cluster-b' }, { name: 'cluster-c', context: 'c', secretName: 'herald-kubeconfig-c' }],
    adminToken: { enabled: true },
    extraArgs: ['--service-label', 'app.kubernetes.io/name'],
    commonLabels: { 'herald.io/kube-cluster': 'cluster-a' },
    serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
  },
};

/**
 * prometheus-operator's ServiceMonitor kind, reduced to what the apiserver needs to accept one:
 * the chart's ServiceMonitor is checked for shape by the unit test, here for being storable.
 */
const SERVICE_MONITOR_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'servicemonitors.monitoring.coreos.com' },
  spec: {
    group: 'monitoring.coreos.com',
    scope: 'Namespaced',
    names: { kind: 'ServiceMonitor', listKind: 'ServiceMonitorList', plural: 'servicemonitors', singular: 'servicemonitor' },
    versions: [
      { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } } },
    ],
  },
};

type Obj = Record<string, any>;

function ref(o: KubernetesObject): string {
  const ns = o.metadata?.namespace ? `${o.metadata.namespace}/` : '';
  return `${o.kind} ${ns}${o.metadata?.name}`;
}

/** HTTP status and the apiserver's Status message of a failed request, or the error's own text. */
function failure(error: unknown): { code: number | undefined; message: string } {
  const e = error as { code?: number; body?: unknown; message?: string };
  let body = e.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // Not a Status object: keep the text.
    }
  }
  const message = (body as { message?: string } | undefined)?.message ?? (typeof body === 'string' ? body : String(e.message ?? error));
  return { code: e.code, message };
}

/**
 * Paths where `actual` lacks or changes something `expected` sets. The apiserver's answer to a
 * dry-run apply is the object it would store: a field it (or the client's typed serializer)
 * dropped shows up here instead of passing silently.
 */
function notKept(expected: unknown, actual: unknown, path = ''): string[] {
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return [`${path}: missing`];
    if (Array.isArray(expected) && (!Array.isArray(actual) || actual.length !== expected.length)) return [`${path}: list changed`];
    return Object.entries(expected as Obj).flatMap(([k, v]) => notKept(v, (actual as Obj)[k], Array.isArray(expected) ? `${path}[${k}]` : `${path}.${k}`));
  }
  return expected === actual ? [] : [`${path}: sent ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

describe.skipIf(bins === '')('e2e: deploy/ passes a real apiserver with server-side dry-run', () => {
  let group: ProcessGroup;
  let cluster: KubeCluster;
  let api: KubernetesObjectApi;
  const rendered = new Map<string, KubernetesObject[]>();
  // The first dry run of each Namespace, made while it did not exist yet, and a read right after it.
  const namespaceDryRuns: { name: string; error: string | undefined; readAfter: number | 'found' | undefined }[] = [];

  /** Server-side apply with dryRun=All; the error text, or undefined when accepted. */
  async function dryRunApply(object: KubernetesObject): Promise<{ error: string | undefined; code: number | undefined; result?: KubernetesObject }> {
    try {
      const result = await api.patch(structuredClone(object), undefined, 'All', FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      return { error: undefined, code: undefined, result };
    } catch (error) {
      const f = failure(error);
      return { error: `${ref(object)}: HTTP ${f.code}: ${f.message}`, code: f.code };
    }
  }

  /** 'found', or the HTTP status of a failed read (404 = not there). */
  async function readStatus(object: KubernetesObject): Promise<number | 'found' | undefined> {
    const header = { apiVersion: object.apiVersion!, kind: object.kind!, metadata: { name: object.metadata!.name!, namespace: object.metadata?.namespace } };
    try {
      await api.read(header);
      return 'found';
    } catch (error) {
      return failure(error).code;
    }
  }

  function deploymentOf(dir: string): Obj {
    const deployment = rendered.get(dir)!.find((o) => o.kind === 'Deployment');
    if (!deployment) throw new Error(`no Deployment rendered from deploy/${dir}`);
    return structuredClone(deployment) as Obj;
  }

  beforeAll(async () => {
    for (const dir of RENDERS) rendered.set(dir, renderDeploy(dir));
    for (const [name, values] of Object.entries(CHARTS)) rendered.set(name, renderChart(values));
    group = new ProcessGroup();
    cluster = await KubeCluster.start({ name: 'deploy', bins, group });
    api = KubernetesObjectApi.makeApiClient(cluster.kubeConfig('admin'));

    // Namespaced objects can only be dry-run into an existing Namespace (NamespaceLifecycle
    // admission): dry-run each Namespace while it is still absent, then create it for real.
    const namespaces = new Map<string, KubernetesObject>();
    for (const objects of rendered.values()) for (const o of objects) if (o.kind === 'Namespace') namespaces.set(o.metadata!.name!, o);
    for (const [name, ns] of namespaces) {
      const { error } = await dryRunApply(ns);
      namespaceDryRuns.push({ name, error, readAfter: await readStatus(ns) });
      await api.create(structuredClone(ns), undefined, undefined, FIELD_MANAGER);
    }
    await api.create(structuredClone(SERVICE_MONITOR_CRD), undefined, undefined, FIELD_MANAGER);
    await eventually(
      'the ServiceMonitor kind is served',
      async () => {
        const { error } = await dryRunApply(rendered.get('charts/herald (every option)')!.find((o) => o.kind === 'ServiceMonitor')!);
        if (error !== undefined) throw new Error(error);
        return true;
      },
      30_000,
      250,
    );
  });

  afterAll(async () => {
    await cluster?.stop();
    if (group) {
      await group.stopAll();
      group.dispose();
    }
  });

  it('renders the objects the issue asks for', () => {
    const kinds = (dir: string) => new Set(rendered.get(dir)!.map((o) => o.kind));
    for (const dir of ['base', 'overlays/cluster-b']) {
      expect([...kinds(dir)].sort()).toEqual([
        'ClusterRole',
        'ClusterRoleBinding',
        'CustomResourceDefinition',
        'Deployment',
        'Namespace',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'Service',
        'ServiceAccount',
      ]);
    }
    expect(kinds('examples/sidecar')).toEqual(new Set(['Namespace', 'Deployment']));
    expect([...kinds('charts/herald (defaults)')].sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'Deployment',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Service',
      'ServiceAccount',
    ]);
    expect(kinds('charts/herald (every option)').has('ServiceMonitor')).toBe(true);
  });

  it('accepts each Namespace in a dry run before it exists, without creating it', () => {
    expect(namespaceDryRuns.map((n) => n.name).sort()).toEqual(['herald', 'shop']);
    for (const n of namespaceDryRuns) {
      expect(n.error, n.name).toBeUndefined();
      expect(n.readAfter, `${n.name} read after its dry run`).toBe(404);
    }
  });

  it.each([...RENDERS.map((dir) => `deploy/${dir}`), ...Object.keys(CHARTS)])('accepts every object of %s, keeping every field it sets', async (name) => {
    const dir = name.replace(/^deploy\//, '');
    const objects = rendered.get(dir)!;
    const errors: string[] = [];
    for (const object of objects) {
      const { error, result } = await dryRunApply(object);
      if (error) {
        errors.push(error);
        continue;
      }
      // client-node has no model for a custom kind: its answer keeps only apiVersion, kind and
      // metadata, so for a ServiceMonitor those are what can be compared.
      const expected = object.kind === 'ServiceMonitor' ? { apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata } : object;
      const lost = notKept(expected, result).map((p) => `${ref(object)}: ${p}`);
      errors.push(...lost);
    }
    expect(errors, errors.join('\n')).toEqual([]);
    expect(objects.length).toBeGreaterThan(1);
  });

  it('rejects an invalid Deployment: the dry run really validates', async () => {
    const badPort = deploymentOf('base');
    badPort.spec.template.spec.containers[0].ports[0].containerPort = 70000;
    const port = await dryRunApply(badPort);
    expect(port.code).toBe(422);
    expect(port.error).toMatch(/containerPort/);

    const badSelector = deploymentOf('overlays/cluster-b');
    badSelector.spec.selector = { matchLabels: { 'app.kubernetes.io/name': 'not-herald' } };
    const selector = await dryRunApply(badSelector);
    expect(selector.code).toBe(422);
    expect(selector.error).toMatch(/selector/);

    // The same object unmutated is accepted, so the 422s come from the mutations.
    expect((await dryRunApply(deploymentOf('base'))).error).toBeUndefined();
  });

  it('stored nothing but the Namespaces it created itself', async () => {
    const stored: string[] = [];
    for (const objects of rendered.values()) {
      for (const o of objects) {
        if (o.kind === 'Namespace') continue;
        const status = await readStatus(o);
        if (status !== 404) stored.push(`${ref(o)}: ${status}`);
      }
    }
    expect(stored, stored.join('\n')).toEqual([]);
  });
});
