// Issue 18, the optional status condition, against real kube-apiservers: with --policy-status a
// replica writes each ServicePolicy's Accepted condition through the status subresource of the
// shipped CRD, with the shipped optional role — False with the field path for a generation it
// rejects, True again once fixed — only in the clusters it reads policies from; a replica
// without the flag writes nothing.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CustomObjectsApi, KubernetesObjectApi, loadYaml, RbacAuthorizationV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeraldProcess, REPO_ROOT } from './harness/herald.js';
import { eventually } from './harness/processes.js';
import { E2eEnv, e2eBins, type TestCluster } from './harness/suite.js';

const bins = e2eBins();
const WAIT_MS = 60_000;
const GROUP = { group: 'herald.io', version: 'v1alpha1', plural: 'servicepolicies' };

type Obj = Record<string, any>;

const crd = (withCel: boolean): Obj => {
  const object = loadYaml<Obj>(readFileSync(path.join(REPO_ROOT, 'deploy', 'crd', 'servicepolicies.yaml'), 'utf8'));
  if (!withCel) for (const section of Object.values(object.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties) as Obj[]) delete section.x_kubernetes_validations;
  return object;
};

describe.skipIf(bins === '')('e2e: ServicePolicy status conditions', () => {
  let env: E2eEnv;
  let east: TestCluster;
  let west: TestCluster;
  /** --policy-status, reads ServicePolicies from west only. */
  let writer: HeraldProcess;
  /** No --policy-status, reads ServicePolicies from east. */
  let reader: HeraldProcess;

  const api = (c: TestCluster) => c.kube.kubeConfig('admin').makeApiClient(CustomObjectsApi);
  const get = (c: TestCluster, name: string) => api(c).getNamespacedCustomObject({ ...GROUP, namespace: 'default', name }) as Promise<Obj>;
  const apply = async (c: TestCluster, name: string, spec: Obj) => {
    const existing = await get(c, name).catch(() => undefined);
    const body = {
      apiVersion: 'herald.io/v1alpha1',
      kind: 'ServicePolicy',
      metadata: { name, namespace: 'default', ...(existing ? { resourceVersion: existing.metadata.resourceVersion } : {}) },
      spec,
    };
    return (
      existing ? api(c).replaceNamespacedCustomObject({ ...GROUP, namespace: 'default', name, body }) : api(c).createNamespacedCustomObject({ ...GROUP, namespace: 'default', body })
    ) as Promise<Obj>;
  };
  const accepted = (o: Obj): Obj | undefined => (o.status?.conditions as Obj[] | undefined)?.find((c) => c.type === 'Accepted');
  /** The object once its Accepted condition is about `generation`. */
  const conditionFor = (c: TestCluster, name: string, generation: number) =>
    eventually(
      `Accepted condition for generation ${generation}`,
      async () => {
        const o = await get(c, name);
        return accepted(o)?.observedGeneration === generation ? o : undefined;
      },
      WAIT_MS,
    );

  beforeAll(async () => {
    env = new E2eEnv(bins);
    [east, west] = await env.startClusters([
      { name: 'east', nodes: [{ name: 'east-n1', zone: 'east-a', region: 'east' }] },
      { name: 'west', nodes: [{ name: 'west-n1', zone: 'west-a', region: 'west' }] },
    ]);
    const role = loadYaml<KubernetesObject>(readFileSync(path.join(REPO_ROOT, 'deploy', 'rbac-policy-status', 'clusterrole.yaml'), 'utf8'));
    for (const [c, withCel] of [
      [east, true],
      // west's CRD has no CEL rules, so an invalid generation gets past admission there.
      [west, false],
    ] as const) {
      const admin = c.kube.kubeConfig('admin');
      await KubernetesObjectApi.makeApiClient(admin).create(crd(withCel) as KubernetesObject);
      // The optional role as shipped, bound to the identity Herald uses, in both clusters.
      await KubernetesObjectApi.makeApiClient(admin).create(structuredClone(role));
      await admin.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({
        body: {
          metadata: { name: 'herald-e2e-policy-status' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata!.name! },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'herald' }],
        },
      });
      await eventually(
        'ServicePolicies served',
        async () =>
          await api(c)
            .listClusterCustomObject(GROUP)
            .then(
              () => true,
              () => undefined,
            ),
        WAIT_MS,
      );
    }
    const clusters = [east, west].map((c) => ({ name: c.kube.name, kubeconfig: c.heraldKubeconfig }));
    writer = await HeraldProcess.start({
      group: env.group,
      dir: env.dir,
      clusters,
      localCluster: 'east',
      initialSyncTimeout: '60s',
      extraArgs: ['--policy-clusters', 'west', '--policy-status', '--replica-name', 'herald-e2e-writer'],
    });
    reader = await HeraldProcess.start({ group: env.group, dir: env.dir, clusters, localCluster: 'east', initialSyncTimeout: '60s', extraArgs: ['--policy-clusters', 'east'] });
  }, 240_000);

  afterAll(async () => {
    await env?.close();
  });

  it('a valid object gets Accepted=True naming the replica; writing status leaves the generation alone', async () => {
    await apply(west, 'cart', { circuitBreakers: { maxRequests: 10 } });
    const o = await conditionFor(west, 'cart', 1);
    expect(accepted(o)).toMatchObject({ status: 'True', reason: 'Valid', observedGeneration: 1 });
    expect(o.status.acceptedBy).toEqual({ replica: 'herald-e2e-writer', cluster: 'east' });
    expect(o.metadata.generation).toBe(1);
  });

  it('a rejected generation gets Accepted=False with the field path; fixing it flips back to True', async () => {
    const before = accepted(await get(west, 'cart'))!;
    await apply(west, 'cart', { circuitBreakers: { maxRequests: 30 }, loadBalancing: { policy: 'Random', slowStartWindowMs: 1000 } });
    const rejected = accepted(await conditionFor(west, 'cart', 2))!;
    expect(rejected).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(rejected.message).toBe('spec.loadBalancing.slowStartWindowMs: slowStartWindowMs needs policy RoundRobin or LeastRequest; generation 1 stays in effect');
    expect(rejected.lastTransitionTime).not.toBe(before.lastTransitionTime);

    await apply(west, 'cart', { circuitBreakers: { maxRequests: 30 } });
    const fixed = await conditionFor(west, 'cart', 3);
    expect(accepted(fixed)).toMatchObject({ status: 'True', reason: 'Valid' });
    expect(fixed.metadata.generation).toBe(3);
    // One write per verdict: the watch bringing each write back caused no further write.
    expect(await writer.metric('herald_policy_status_writes_total', { result: 'written' })).toBe(3);
  });

  it('nothing is written by a replica without the flag, nor to a cluster the writer does not read policies from', async () => {
    await apply(east, 'cart', { circuitBreakers: { maxRequests: 5 } });
    // The reader has no cart pod, so /debug/policies lists no service: its gauge says it holds the object.
    await eventually('the reader took east/default/cart', async () => ((await reader.metric('herald_policies', { state: 'active' })) === 1 ? true : undefined), WAIT_MS);
    // A later write by the writer shows it has been running past the east object's creation.
    await apply(west, 'cart', { circuitBreakers: { maxRequests: 31 } });
    await conditionFor(west, 'cart', 4);
    expect((await get(east, 'cart')).status).toBeUndefined();
    expect(await reader.metric('herald_policy_status_writes_total', { result: 'written' })).toBeUndefined();
  });
});
