// Issue 18, first slice, against real kube-apiservers: the ServicePolicy CRD as shipped rejects
// bad objects at apply with the field path; a policy applied changes the Cluster Herald serves;
// the mesh defaults are inherited; two clusters that disagree resolve by --policy-clusters; and
// an invalid generation that got past admission (a CRD installed without its CEL rules) is
// rejected by Herald, which keeps serving the previous one and says so in /debug/policies and
// its metrics; and the cluster a policy comes from going unreachable keeps that policy in what
// clients receive, listed as such in /debug/policies, until it answers again.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CustomObjectsApi, KubernetesObjectApi, loadYaml, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TYPE_URLS } from '../../src/model/index.js';
import { validatePolicySpec, type PolicyDebugView } from '../../src/policy/index.js';
import { loadEnvoyProtos, ResourceEncoder } from '../../src/resources/index.js';
import { RawAdsClient } from '../interop/raw-ads.js';
import { HeraldProcess, REPO_ROOT } from './harness/herald.js';
import { eventually } from './harness/processes.js';
import { E2eEnv, e2eBins, type TestCluster } from './harness/suite.js';

const bins = e2eBins();
const WAIT_MS = 60_000;
const GROUP = { group: 'herald.io', version: 'v1alpha1', plural: 'servicepolicies' };

type Obj = Record<string, any>;

/** The CRD as client-node's typed model (where `x-kubernetes-validations` is `x_kubernetes_validations`). */
function shippedCrd(): Obj {
  return loadYaml<Obj>(readFileSync(path.join(REPO_ROOT, 'deploy', 'crd', 'servicepolicies.yaml'), 'utf8'));
}

/** The same CRD with every CEL rule taken out: what an older or hand-edited install might hold. */
function crdWithoutCel(): Obj {
  const crd = shippedCrd();
  const strip = (node: Obj): void => {
    delete node.x_kubernetes_validations;
    delete node['x-kubernetes-validations'];
    for (const child of Object.values((node.properties ?? {}) as Obj)) strip(child as Obj);
    if (node.items) strip(node.items as Obj);
  };
  strip(crd.spec.versions[0].schema.openAPIV3Schema.properties.spec);
  return crd;
}

/** The apiserver's Status message of a refused request. */
function refusal(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  const parsed = typeof body === 'string' ? (JSON.parse(body) as { message?: string }) : (body as { message?: string } | undefined);
  return parsed?.message ?? String(error);
}

describe.skipIf(bins === '')('e2e: ServicePolicy from two clusters', () => {
  let env: E2eEnv;
  let east: TestCluster;
  let west: TestCluster;
  let herald: HeraldProcess;
  let ads: RawAdsClient;
  let encoder: ResourceEncoder;

  const policies = (c: TestCluster) => c.kube.kubeConfig('admin').makeApiClient(CustomObjectsApi);
  const apply = (c: TestCluster, namespace: string, name: string, spec: Obj) => applyThrough(policies(c), namespace, name, spec);
  const applyThrough = async (api: CustomObjectsApi, namespace: string, name: string, spec: Obj) => {
    const existing = await api.getNamespacedCustomObject({ ...GROUP, namespace, name }).catch(() => undefined);
    const body = {
      apiVersion: 'herald.io/v1alpha1',
      kind: 'ServicePolicy',
      metadata: { name, namespace, ...(existing ? { resourceVersion: (existing as Obj).metadata.resourceVersion } : {}) },
      spec,
    };
    return existing ? api.replaceNamespacedCustomObject({ ...GROUP, namespace, name, body }) : api.createNamespacedCustomObject({ ...GROUP, namespace, body });
  };
  /** The newest cart.default Cluster Herald served over wildcard CDS. */
  const servedCart = (): Obj | undefined =>
    ads.responses
      .filter((r) => r.type_url === TYPE_URLS.cluster)
      .flatMap((r) => r.resources.map((any) => encoder.decodeAny(any)))
      .findLast((d) => d.name === 'cart.default')?.message as Obj | undefined;
  const served = (what: string, predicate: (cluster: Obj) => boolean) => ads.waitFor(() => predicate(servedCart() ?? {}), WAIT_MS, what);

  beforeAll(async () => {
    encoder = new ResourceEncoder(loadEnvoyProtos());
    env = new E2eEnv(bins);
    [east, west] = await env.startClusters([
      { name: 'east', nodes: [{ name: 'east-n1', zone: 'east-a', region: 'east' }] },
      { name: 'west', nodes: [{ name: 'west-n1', zone: 'west-a', region: 'west' }] },
    ]);
    await KubernetesObjectApi.makeApiClient(east.kube.kubeConfig('admin')).create(shippedCrd() as KubernetesObject);
    await KubernetesObjectApi.makeApiClient(west.kube.kubeConfig('admin')).create(crdWithoutCel() as KubernetesObject);
    await east.kubelet.runPod({ name: 'cart-1', service: 'cart', node: 'east-n1', ip: '10.1.0.1', port: 8080 });
    // The CRD takes a moment to be served after it is created.
    for (const c of [east, west]) {
      await eventually(
        'ServicePolicies served',
        async () =>
          await policies(c)
            .listClusterCustomObject(GROUP)
            .then(() => true)
            .catch(() => undefined),
        WAIT_MS,
      );
    }
    herald = await HeraldProcess.start({
      group: env.group,
      dir: env.dir,
      clusters: [east, west].map((c) => ({ name: c.kube.name, kubeconfig: c.heraldKubeconfig })),
      localCluster: 'east',
      initialSyncTimeout: '60s',
      // west first: its copy wins when the two clusters disagree.
      extraArgs: ['--policy-clusters', 'west,east'],
    });
    ads = new RawAdsClient(loadEnvoyProtos(), herald.xdsTarget, 'policy-envoy');
    ads.subscribe(TYPE_URLS.cluster, []);
    await served('cart.default served without a policy', (c) => c.name === 'cart.default');
  }, 240_000);

  afterAll(async () => {
    ads?.close();
    await env?.close();
  });

  it('the shipped CRD refuses a bad object at apply, naming the field path', async () => {
    const bound = await apply(east, 'default', 'bad', { connection: { connectTimeoutMs: 0 } }).then(() => 'accepted', refusal);
    expect(bound).toContain('spec.connection.connectTimeoutMs');
    const cel = await apply(east, 'default', 'bad', { loadBalancing: { policy: 'Random', slowStartWindowMs: 1000 } }).then(() => 'accepted', refusal);
    expect(cel).toContain('spec.loadBalancing.slowStartWindowMs');
    expect(cel).toContain('slowStartWindowMs needs policy RoundRobin or LeastRequest');
  });

  it.each([
    ['RingHash without hashHeader', { loadBalancing: { policy: 'RingHash' } }, 'policy RingHash needs hashHeader, and hashHeader needs policy RingHash'],
    ['a binary hash header', { loadBalancing: { policy: 'RingHash', hashHeader: 'x-trace-bin' } }, 'hashHeader must not be a binary (-bin) header'],
    ['two health checkers', { healthCheck: { httpPath: '/healthz', tcp: true } }, 'healthCheck needs exactly one of httpPath, grpcServiceName, tcp: true'],
    ['no health checker', { healthCheck: { tcp: false } }, 'healthCheck needs exactly one of httpPath, grpcServiceName, tcp: true'],
    [
      'maxRetries beside a retry budget',
      { circuitBreakers: { maxRetries: 3, retryBudgetPercent: 20 } },
      'maxRetries and a retry budget (retryBudgetPercent, retryBudgetMinConcurrency) exclude each other',
    ],
    ['ejection timing without a reason to eject', { outlierDetection: { intervalMs: 100 } }, 'outlierDetection needs consecutive5xx, consecutiveGatewayErrors'],
    ['a health check port beside a port name', { healthCheck: { tcp: true, port: 8081, portName: 'health' } }, 'port and portName exclude each other'],
  ])('the shipped CRD refuses %s with its CEL rule', async (_name, spec, message) => {
    expect(await apply(east, 'default', 'refused', spec).then(() => 'accepted', refusal)).toContain(message);
  });

  it('the shipped CRD accepts ring hash, health checks, statistical ejection and a retry budget', async () => {
    const spec = {
      loadBalancing: { policy: 'RingHash', hashHeader: 'x-session-id' },
      healthCheck: { grpcServiceName: '', port: 9090, intervalMs: 5000 },
      outlierDetection: { successRateStdevFactor: 1900, failurePercentageThreshold: 0 },
      circuitBreakers: { retryBudgetPercent: 25, retryBudgetMinConcurrency: 0 },
    };
    expect(await apply(east, 'default', 'accepted', spec).then(() => 'accepted', refusal)).toBe('accepted');
  });

  it('the shipped CRD refuses bad routes sections at apply (nested CEL, list rules), naming the path, and takes a good one', async () => {
    const refused = (routes: Obj) => apply(east, 'default', 'bad', { routes }).then(() => 'accepted', refusal);
    const backoff = await refused({ retries: { retryOn: ['unavailable'], backoff: { baseIntervalMs: 100, maxIntervalMs: 10 } } });
    expect(backoff).toContain('spec.routes.retries.backoff.maxIntervalMs');
    expect(backoff).toContain('maxIntervalMs must be ≥ baseIntervalMs');
    expect(await refused({ retries: { retryOn: ['teapot'] } })).toContain('spec.routes.retries.retryOn[0]');
    expect(await refused({ retries: { retryOn: ['reset', 'reset'] } })).toContain('spec.routes.retries.retryOn[1]');
    expect(await refused({ retries: { attempts: 2 } })).toContain('spec.routes.retries.retryOn');
    const twice = await refused({
      split: [
        { service: 'a', weight: 1 },
        { service: 'a', weight: 2 },
      ],
    });
    expect(twice).toContain('spec.routes.split');
    expect(twice).toContain('split names each service once');
    expect(await refused({ split: [{ service: 'a', weight: 0 }] })).toContain('split needs a service with weight > 0');
    expect(await refused({ split: [{ service: '-a', weight: 1 }] })).toContain('spec.routes.split[0].service');
    const good = {
      timeoutMs: 2000,
      retries: { attempts: 2, retryOn: ['5xx', 'unavailable'], perTryTimeoutMs: 500, backoff: { baseIntervalMs: 25, maxIntervalMs: 250 } },
      split: [
        { service: 'cart', weight: 90 },
        { service: 'cart-canary', weight: 10 },
      ],
    };
    expect(await apply(east, 'default', 'routes-ok', { routes: good }).then(() => 'accepted', refusal)).toBe('accepted');
    // What the apiserver stored is what Herald's validator accepts, field for field.
    const stored = (await policies(east).getNamespacedCustomObject({ ...GROUP, namespace: 'default', name: 'routes-ok' })) as Obj;
    expect(validatePolicySpec(stored.spec)).toEqual({ ok: true, spec: { routes: good } });
    await policies(east).deleteNamespacedCustomObject({ ...GROUP, namespace: 'default', name: 'routes-ok' });
  });

  it('healthCheck.portName: the shipped CRD refuses a name Kubernetes would not allow, and the served assignment carries the named port of the pod that declares it', async () => {
    const badName = await apply(east, 'default', 'bad', { healthCheck: { tcp: true, portName: 'Health_Port' } }).then(() => 'accepted', refusal);
    expect(badName).toContain('spec.healthCheck.portName');
    // ledger-1 declares a container port named health, ledger-2 only its traffic port.
    await east.kubelet.runPod({
      name: 'ledger-1',
      service: 'ledger',
      node: 'east-n1',
      ip: '10.1.0.21',
      port: 8080,
      via: 'named-port',
      extraPorts: [{ name: 'health', containerPort: 8081 }],
    });
    await east.kubelet.runPod({ name: 'ledger-2', service: 'ledger', node: 'east-n1', ip: '10.1.0.22', port: 8080, via: 'named-port' });
    const eds = new RawAdsClient(loadEnvoyProtos(), herald.xdsTarget, 'policy-envoy-eds');
    try {
      /** address → its health check port in the newest ledger.default assignment (null: none). */
      const checkPorts = (): Record<string, number | null> => {
        const cla = eds.responses
          .filter((r) => r.type_url === TYPE_URLS.endpoint)
          .flatMap((r) => r.resources.map((any) => encoder.decodeAny(any)))
          .findLast((d) => d.name === 'ledger.default')?.message as Obj | undefined;
        return Object.fromEntries(
          ((cla?.endpoints ?? []) as Obj[]).flatMap((l) =>
            (l.lb_endpoints as Obj[]).map((e) => [e.endpoint.address.socket_address.address, e.endpoint.health_check_config?.port_value ?? null]),
          ),
        );
      };
      eds.subscribe(TYPE_URLS.endpoint, ['ledger.default']);
      await eds.waitFor(() => Object.keys(checkPorts()).length === 2, WAIT_MS, 'both ledger endpoints served');
      expect(checkPorts()).toEqual({ '10.1.0.21': null, '10.1.0.22': null });

      expect(await apply(east, 'default', 'ledger', { healthCheck: { httpPath: '/ready', portName: 'health' } }).then(() => 'accepted', refusal)).toBe('accepted');
      await eds.waitFor(() => checkPorts()['10.1.0.21'] === 8081, WAIT_MS, "ledger-1's health port in the assignment");
      expect(checkPorts()).toEqual({ '10.1.0.21': 8081, '10.1.0.22': null });
      // ledger-2 has no port of that name: checked on its traffic port, and reported.
      expect(await herald.metric('herald_health_check_port_unresolved_endpoints', { service: 'ledger.default', port_name: 'health' })).toBe(1);
      const debug = (await herald.debug<{ services: Array<{ service: string; healthCheckPortUnresolved?: unknown }> }>('policies')).body;
      expect(debug.services.find((s) => s.service === 'ledger.default')?.healthCheckPortUnresolved).toEqual({ portName: 'health', endpoints: 1 });
      await herald.waitForLog('pods without the container port named by healthCheck.portName', WAIT_MS);
      await policies(east).deleteNamespacedCustomObject({ ...GROUP, namespace: 'default', name: 'ledger' });
      await eds.waitFor(() => checkPorts()['10.1.0.21'] === null, WAIT_MS, 'the health port gone with the policy');
    } finally {
      eds.close();
    }
  });

  it('a policy applied changes the served Cluster; a section the mesh defaults set is inherited', async () => {
    expect(servedCart()).not.toHaveProperty('circuit_breakers');
    await apply(east, 'default', 'cart', { circuitBreakers: { maxRequests: 10 } });
    await served('circuit breakers from the cart policy', (c) => c.circuit_breakers?.thresholds?.[0]?.max_requests?.value === 10);
    await apply(east, 'herald', 'mesh-defaults', { connection: { connectTimeoutMs: 750 } });
    await served('connect timeout from the mesh defaults', (c) => c.connect_timeout?.nanos === 750_000_000 && c.circuit_breakers !== undefined);
    const debug = await herald.debug<PolicyDebugView>('policies');
    const cart = debug.body.services.find((s) => s.service === 'cart.default');
    expect(cart?.from).toEqual({
      connection: { cluster: 'east', namespace: 'herald', name: 'mesh-defaults', generation: 1, role: 'defaults' },
      circuitBreakers: { cluster: 'east', namespace: 'default', name: 'cart', generation: 1, role: 'service' },
    });
  });

  it('clusters that disagree resolve by --policy-clusters, and the conflict is reported', async () => {
    await apply(west, 'default', 'cart', { circuitBreakers: { maxRequests: 20 } });
    await served("west's copy wins", (c) => c.circuit_breakers?.thresholds?.[0]?.max_requests?.value === 20);
    const debug = await herald.debug<PolicyDebugView>('policies');
    expect(debug.body.conflicts).toEqual([{ namespace: 'default', name: 'cart', clusters: ['west', 'east'], chosen: 'west' }]);
    expect(await herald.metric('herald_policy_conflicts')).toBe(1);
  });

  it('an invalid generation past admission is rejected whole; the previous one keeps being served', async () => {
    // west's CRD has no CEL rules: the apiserver stores what the shipped CRD would refuse.
    await apply(west, 'default', 'cart', { circuitBreakers: { maxRequests: 30 }, loadBalancing: { policy: 'Random', slowStartWindowMs: 1000 } });
    const rejection = await eventually(
      'Herald rejected generation 2',
      async () => (await herald.debug<PolicyDebugView>('policies')).body.rejections.find((r) => r.cluster === 'west' && r.generation === 2),
      WAIT_MS,
    );
    expect(rejection).toMatchObject({ namespace: 'default', name: 'cart', keptGeneration: 1, errors: [{ path: 'spec.loadBalancing.slowStartWindowMs' }] });
    expect(await herald.metric('herald_policy_rejections_total', { kube_cluster: 'west' })).toBe(1);
    expect(await herald.metric('herald_policies', { state: 'rejected' })).toBe(1);
    // No part of it applied: still generation 1's circuit breakers, no balancer list.
    const cart = servedCart()!;
    expect(cart.circuit_breakers.thresholds[0].max_requests.value).toBe(20);
    expect(cart).not.toHaveProperty('load_balancing_policy');
    await herald.waitForLog(
      'ServicePolicy west/default/cart generation 2 rejected: spec.loadBalancing.slowStartWindowMs: slowStartWindowMs needs policy RoundRobin or LeastRequest; keeping generation 1',
      WAIT_MS,
    );
  });

  it('the policy cluster unreachable: its last known policy stays in the served Cluster, /debug/policies says so, and it comes back', async () => {
    // Where things stand: cart's circuit breakers from west (generation 1), the connect timeout
    // from east's mesh defaults.
    const before = servedCart()!;
    expect(before.circuit_breakers.thresholds[0].max_requests.value).toBe(20);
    await west.kube.stopApiserver('kill');
    const unavailable = await eventually(
      'west listed as unreachable in /debug/policies',
      async () => (await herald.debug<PolicyDebugView>('policies')).body.unavailable.find((u) => u.cluster === 'west'),
      WAIT_MS,
    );
    expect(unavailable.keptLastKnown).toBe(true);
    expect(unavailable.reason).toContain('keeping the last known ServicePolicies');

    // A change elsewhere makes Herald build and send cart's Cluster again while west is away:
    // the new bytes still carry west's circuit breakers.
    await apply(east, 'herald', 'mesh-defaults', { connection: { connectTimeoutMs: 600 } });
    await served('the new connect timeout', (c) => c.connect_timeout?.nanos === 600_000_000);
    expect(servedCart()!.circuit_breakers.thresholds[0].max_requests.value).toBe(20);
    const debug = (await herald.debug<PolicyDebugView>('policies')).body;
    expect(debug.services.find((s) => s.service === 'cart.default')?.from.circuitBreakers).toEqual({
      cluster: 'west',
      namespace: 'default',
      name: 'cart',
      generation: 1,
      role: 'service',
    });

    // West goes on without Herald: through a second apiserver on the same etcd, cart's policy
    // gets a valid generation 3. Herald cannot see it yet.
    const side = await west.kube.startSideApiserver();
    try {
      await applyThrough(west.kube.kubeConfig('admin', side.port).makeApiClient(CustomObjectsApi), 'default', 'cart', { circuitBreakers: { maxRequests: 40 } });
    } finally {
      await side.stop();
    }
    expect(servedCart()!.circuit_breakers.thresholds[0].max_requests.value).toBe(20);

    await west.kube.startApiserver();
    await served("west's generation 3 once it answers again", (c) => c.circuit_breakers?.thresholds?.[0]?.max_requests?.value === 40 && c.connect_timeout?.nanos === 600_000_000);
    await eventually('west no longer listed as unavailable', async () => ((await herald.debug<PolicyDebugView>('policies')).body.unavailable.length === 0 ? true : undefined), WAIT_MS);
    expect((await herald.debug<PolicyDebugView>('policies')).body.rejections).toEqual([]);
  });
});
