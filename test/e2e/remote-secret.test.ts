// Issue 21, parts 2 and 3: `herald remote-secret` makes, in a real cluster, the reader
// ServiceAccount bound to exactly the shipped ClusterRole and prints a Secret whose kubeconfig
// Herald runs with; then the token is rotated the way Kubernetes updates a mounted Secret (the
// `..data` symlink swapped under a running Herald), with the old token revoked, and Herald
// reconnects without a restart, serving the last endpoints meanwhile and losing no change.
import { execFile } from 'node:child_process';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AuthorizationV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api, loadAllYaml } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdsClient } from '../../src/xdsclient/index.js';
import { HERALD_MAIN, HeraldProcess } from './harness/herald.js';
import { eventually } from './harness/processes.js';
import { installPolicyCrd, shippedClusterRole } from './harness/rbac.js';
import { E2eEnv, e2eBins, type TestCluster } from './harness/suite.js';
import { endpointMap, envoy, until } from './harness/xds.js';

const bins = e2eBins();
const run = promisify(execFile);
const READER = 'system:serviceaccount:herald:herald-reader';

/** `herald remote-secret` against the cluster as its admin; the kubeconfig from the Secret it prints. */
async function remoteSecret(cluster: TestCluster): Promise<{ kubeconfig: string; stdout: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
  const { stdout } = await run(process.execPath, [HERALD_MAIN, 'remote-secret', '--cluster', 'remote', '--kubeconfig', cluster.kube.kubeconfigFile('admin'), '--token-lifetime', '2h'], {
    env,
  });
  const [secret] = loadAllYaml(stdout) as { metadata: { name: string; namespace: string }; data: Record<string, string> }[];
  expect(secret!.metadata).toMatchObject({ name: 'herald-kubeconfigs', namespace: 'herald' });
  expect(Object.keys(secret!.data)).toEqual(['remote.kubeconfig']);
  return { kubeconfig: Buffer.from(secret!.data['remote.kubeconfig']!, 'base64').toString('utf8'), stdout };
}

/** A directory laid out as the kubelet mounts a Secret: `<key>` → `..data/<key>`, `..data` → a version directory swapped whole on update. */
class MountedSecret {
  private version = 0;
  constructor(
    readonly dir: string,
    private readonly key: string,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  get path(): string {
    return join(this.dir, this.key);
  }

  write(content: string): void {
    const name = `..2026_v${++this.version}`;
    mkdirSync(join(this.dir, name));
    writeFileSync(join(this.dir, name, this.key), content);
    symlinkSync(name, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    if (this.version === 1) symlinkSync(join('..data', this.key), this.path);
  }
}

function kubeConfigOf(text: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(text);
  return kc;
}

describe.skipIf(bins === '')('e2e: remote-secret credentials, rotated under a running Herald', () => {
  let env: E2eEnv;
  let remote: TestCluster;
  let first: { kubeconfig: string; stdout: string };
  let mount: MountedSecret;
  let herald: HeraldProcess;
  let client: AdsClient;

  beforeAll(async () => {
    env = new E2eEnv(bins);
    [remote] = await env.startClusters([{ name: 'remote', nodes: [{ name: 'remote-n1', zone: 'remote-a', region: 'remote' }] }]);
    first = await remoteSecret(remote);
    mount = new MountedSecret(join(env.dir, 'kubeconfigs'), 'remote.kubeconfig');
    mount.write(first.kubeconfig);
  });

  afterAll(async () => {
    await client?.close();
    await env?.close();
  });

  it('creates the reader ServiceAccount, bound to the shipped ClusterRole and nothing else', async () => {
    const admin = remote.kube.kubeConfig('admin');
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    const bindings = (await rbac.listClusterRoleBinding()).items.filter((b) => b.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === 'herald-reader'));
    expect(bindings.map((b) => [b.metadata?.name, b.roleRef.kind, b.roleRef.name])).toEqual([['herald-reader', 'ClusterRole', shippedClusterRole().metadata!.name]]);
    const roleBindings = (await rbac.listRoleBindingForAllNamespaces()).items.filter((b) => b.subjects?.some((s) => s.name === 'herald-reader'));
    expect(roleBindings).toEqual([]);

    // What the token may do, as the apiserver's authorizer answers for it.
    const authz = admin.makeApiClient(AuthorizationV1Api);
    const may = async (verb: string, resource: string, group = '') =>
      (await authz.createSubjectAccessReview({ body: { spec: { user: READER, groups: ['system:serviceaccounts'], resourceAttributes: { verb, resource, group } } } })).status?.allowed ===
      true;
    const table: [string, string, string, boolean][] = [
      ['list', 'pods', '', true],
      ['watch', 'pods', '', true],
      ['watch', 'nodes', '', true],
      ['create', 'pods', '', false],
      ['delete', 'pods', '', false],
      ['list', 'secrets', '', false],
      ['get', 'configmaps', '', false],
      ['list', 'services', '', false],
      ['list', 'deployments', 'apps', false],
      ['watch', 'servicepolicies', 'herald.io', true],
      ['patch', 'servicepolicies', 'herald.io', false],
    ];
    const answers = await Promise.all(table.map(async ([verb, resource, group]) => [verb, resource, await may(verb, resource, group)]));
    expect(answers).toEqual(table.map(([verb, resource, , allowed]) => [verb, resource, allowed]));
    expect(first.stdout).toMatch(/token expires at \d{4}-/);
  });

  it('lets Herald watch the cluster with the kubeconfig it printed', async () => {
    await remote.kubelet.runPod({ name: 'shop-1', service: 'shop', node: 'remote-n1', ip: '10.9.0.1', port: 8080 });
    await remote.kubelet.runPod({ name: 'shop-2', service: 'shop', node: 'remote-n1', ip: '10.9.0.2', port: 8080 });
    // As deploy/ installs it: Herald then watches ServicePolicies over the same credentials as pods,
    // instead of probing every few seconds for a CRD that is not there.
    await installPolicyCrd(remote.kube);
    herald = await HeraldProcess.start({ group: env.group, dir: env.dir, clusters: [{ name: 'remote', kubeconfig: mount.path }], initialSyncTimeout: '30s' });
    client = envoy(herald.xdsTarget, 'remote-envoy');
    await until(client, 'both shop pods', (c) => endpointMap(c, 'shop.default').size === 2, 30_000, ['shop.default']);
    expect((await herald.readyz()).body.clusters).toMatchObject([{ cluster: 'remote', state: 'synced' }]);
  });

  it('reconnects when the mounted Secret is rotated and the old token revoked, serving the last endpoints meanwhile', async () => {
    // Revoke the first token: a ServiceAccount's tokens die with it (they carry its uid).
    const core = remote.kube.core('admin');
    await core.deleteNamespacedServiceAccount({ name: 'herald-reader', namespace: 'herald' });
    const second = await remoteSecret(remote);
    expect(second.kubeconfig).not.toBe(first.kubeconfig);
    // The apiserver caches successful token checks for a few seconds: wait for the revocation to bite.
    const oldApi = kubeConfigOf(first.kubeconfig).makeApiClient(CoreV1Api);
    const revoked = await eventually(
      'the first token is refused',
      () =>
        oldApi.listNode().then(
          () => undefined,
          (error: { code?: number }) => error.code,
        ),
      30_000,
    );
    expect(revoked).toBe(401);

    // From here on, shop-1 and shop-2 must never leave what the client holds.
    const gaps: string[] = [];
    const sampler = setInterval(() => {
      const held = endpointMap(client, 'shop.default');
      for (const ip of ['10.9.0.1:8080', '10.9.0.2:8080']) if (!held.has(ip)) gaps.push(`${new Date().toISOString()} ${ip} missing`);
    }, 25);
    try {
      mount.write(second.kubeconfig);
      // A change made while Herald swaps its watches: the new list must bring it.
      await remote.kubelet.runPod({ name: 'shop-3', service: 'shop', node: 'remote-n1', ip: '10.9.0.3', port: 8080 });
      await eventually(
        'herald reconnected',
        async () => ((await herald.metric('herald_kube_credential_reloads_total', { kube_cluster: 'remote', result: 'reconnected' })) === 1 ? true : undefined),
        30_000,
      );
      await until(client, 'shop-3 after the rotation', (c) => endpointMap(c, 'shop.default').has('10.9.0.3:8080'), 30_000, ['shop.default']);
      // A change after the rotation arrives over a watch that only the new token can hold.
      await remote.kubelet.runPod({ name: 'shop-4', service: 'shop', node: 'remote-n1', ip: '10.9.0.4', port: 8080 });
      await until(client, 'shop-4 over the new watch', (c) => endpointMap(c, 'shop.default').has('10.9.0.4:8080'), 30_000, ['shop.default']);
    } finally {
      clearInterval(sampler);
    }
    expect(gaps).toEqual([]);
    const { body } = await herald.readyz();
    expect(body.clusters).toMatchObject([{ cluster: 'remote', state: 'synced' }]);
    expect(herald.log()).toMatch(/kubeconfig changed; reconnecting/);
    expect(herald.log()).not.toMatch(/Unauthorized|HTTP 401|status code 401/i);
    expect(herald.exited()).toBe(false);
  });

  it('keeps the working credentials when a rotation writes a kubeconfig that does not load', async () => {
    mount.write('not: [a kubeconfig');
    await eventually(
      'failed reload counted',
      async () => ((await herald.metric('herald_kube_credential_reloads_total', { kube_cluster: 'remote', result: 'failed' })) === 1 ? true : undefined),
      30_000,
    );
    await remote.kubelet.runPod({ name: 'shop-5', service: 'shop', node: 'remote-n1', ip: '10.9.0.5', port: 8080 });
    await until(client, 'shop-5 with the previous credentials', (c) => endpointMap(c, 'shop.default').has('10.9.0.5:8080'), 30_000, ['shop.default']);
    expect(herald.log()).toMatch(/does not load; going on with the previous credentials/);
  });
});
