import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { shutdownSettings } from '../../src/cli/common.js';
import { parseClusterSpec } from '../../src/config/index.js';
import { DEPLOY_DIR, findOne, renderDeploy, renderYaml } from './kustomize.js';

type Obj = Record<string, any>;

const base = renderDeploy('base') as Obj[];
const clusterB = renderDeploy('overlays/cluster-b') as Obj[];
const one = (objects: Obj[], kind: string, name: string): Obj => findOne(objects, kind, name);
const podSpec = (objects: Obj[]) => one(objects, 'Deployment', 'herald').spec.template.spec;
const container = (objects: Obj[]) => podSpec(objects).containers.find((c: Obj) => c.name === 'herald');

/** A NetworkPolicy rule's `from`, which client-node's typed models name `_from`. */
const sourcesOf = (rule: Obj): Obj[] => rule._from ?? rule.from;

/** What `herald serve` gets: flag → values, from the container args. */
function serveFlags(args: string[]): Map<string, string[]> {
  expect(args[0]).toBe('serve');
  const flags = new Map<string, string[]>();
  for (let i = 1; i < args.length; i += 2) {
    expect(args[i]).toMatch(/^--[a-z-]+$/);
    flags.set(args[i]!, [...(flags.get(args[i]!) ?? []), args[i + 1]!]);
  }
  return flags;
}

/** Herald's shutdown bound as the Deployment runs it: its --shutdown-grace flag, else serve's default. */
function shutdownGraceSeconds(objects: Obj[]): number {
  const grace = serveFlags(container(objects).args).get('--shutdown-grace')?.[0];
  return shutdownSettings({ shutdownGrace: grace }).graceMs / 1000;
}

describe.each([
  ['base', base],
  ['overlays/cluster-b', clusterB],
])('kustomize build deploy/%s', (_dir, objects) => {
  it('renders every kind Herald needs, namespaced objects in herald', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(
      ['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'Deployment', 'Namespace', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', 'Service', 'ServiceAccount'].sort(),
    );
    for (const o of objects) {
      const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition'].includes(o.kind);
      expect([o.kind, o.metadata.namespace]).toEqual([o.kind, clusterScoped ? undefined : 'herald']);
    }
    expect(objects[0]!.kind).toBe('Namespace');
  });

  it('binds the ServiceAccount the pods run as to the shared ClusterRole', () => {
    const binding = one(objects, 'ClusterRoleBinding', 'herald');
    expect(binding.roleRef).toMatchObject({ kind: 'ClusterRole', name: 'herald' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: podSpec(objects).serviceAccountName, namespace: 'herald' }]);
    one(objects, 'ServiceAccount', podSpec(objects).serviceAccountName);
  });

  it('locks the pod down', () => {
    const spec = podSpec(objects);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container(objects).securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(shutdownGraceSeconds(objects));
  });

  it('probes /healthz and /readyz on the admin port and sets resources', () => {
    const c = container(objects);
    const admin = c.ports.find((p: Obj) => p.containerPort === 18001);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: admin.name });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: admin.name });
    expect(Object.keys(c.resources.requests).sort()).toEqual(['cpu', 'memory']);
    expect(c.resources.limits.memory).toBeDefined();
    expect(c.image).toBe('herald:0.1.0');
  });

  it('spreads replicas across zones', () => {
    const deployment = one(objects, 'Deployment', 'herald');
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    const zone = podSpec(objects).topologySpreadConstraints.find((t: Obj) => t.topologyKey === 'topology.kubernetes.io/zone');
    expect(zone).toMatchObject({ maxSkew: 1, labelSelector: { matchLabels: deployment.spec.selector.matchLabels } });
  });

  it('gives Envoys a headless xDS Service and Prometheus an annotated metrics Service', () => {
    const labels = one(objects, 'Deployment', 'herald').spec.template.metadata.labels;
    const xds = one(objects, 'Service', 'herald');
    expect(xds.spec.clusterIP).toBe('None');
    expect(xds.spec.ports).toEqual([{ name: 'grpc-xds', port: 18000, targetPort: 'grpc-xds', protocol: 'TCP', appProtocol: 'grpc' }]);
    const metrics = one(objects, 'Service', 'herald-metrics');
    expect(metrics.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '18001', 'prometheus.io/path': '/metrics' });
    expect(metrics.spec.ports[0]).toMatchObject({ port: 18001, targetPort: 'http-admin' });
    const named = new Map(container(objects).ports.map((p: Obj) => [p.name, p.containerPort]));
    expect([named.get('grpc-xds'), named.get('http-admin')]).toEqual([18000, 18001]);
    for (const service of [xds, metrics]) expect(labels).toMatchObject(service.spec.selector);
    expect(labels).toMatchObject(one(objects, 'PodDisruptionBudget', 'herald').spec.selector.matchLabels);
  });

  it('lets only mesh namespaces reach xDS and only monitoring reach the admin port', () => {
    const policy = one(objects, 'NetworkPolicy', 'herald');
    expect(one(objects, 'Deployment', 'herald').spec.template.metadata.labels).toMatchObject(policy.spec.podSelector.matchLabels);
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    const byPort = new Map<string, Obj[]>(policy.spec.ingress.map((rule: Obj) => [rule.ports.map((p: Obj) => `${p.port}/${p.protocol}`).join(','), sourcesOf(rule)]));
    expect([...byPort.keys()].sort()).toEqual(['grpc-xds/TCP', 'http-admin/TCP']);
    expect(byPort.get('grpc-xds/TCP')).toEqual([{ namespaceSelector: { matchLabels: { 'herald.io/mesh': 'enabled' } } }]);
    expect(byPort.get('http-admin/TCP')).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
    // Named ports: each names a port of the container, so renaming one cannot silently open or close it.
    const names = container(objects).ports.map((p: Obj) => p.name);
    for (const rule of policy.spec.ingress) for (const p of rule.ports) expect(names).toContain(p.port);
  });

  it('mounts the admin token Secret optionally, read-only, and starts without --admin-token-file', () => {
    const volume = podSpec(objects).volumes.find((v: Obj) => v.name === 'admin-token');
    expect(volume.secret).toMatchObject({ secretName: 'herald-admin-token', optional: true });
    expect(container(objects).volumeMounts.find((m: Obj) => m.name === 'admin-token')).toMatchObject({ readOnly: true });
    // A missing file would stop serve at start; the flag is added only once the Secret exists.
    expect(serveFlags(container(objects).args).has('--admin-token-file')).toBe(false);
  });

  it('points every --cluster at a kubeconfig in the mounted Secret and names a valid local cluster', () => {
    const flags = serveFlags(container(objects).args);
    const mount = container(objects).volumeMounts.find((m: Obj) => m.name === 'kubeconfigs');
    const volume = podSpec(objects).volumes.find((v: Obj) => v.name === 'kubeconfigs');
    expect(volume.secret.secretName).toBe('herald-kubeconfigs');
    const remotes = (flags.get('--cluster') ?? []).map(parseClusterSpec);
    expect(remotes.length).toBeGreaterThan(0);
    for (const spec of remotes) expect(spec.kubeconfigPath).toBe(path.posix.join(mount.mountPath, `${spec.name}.kubeconfig`));
    const inCluster = flags.get('--in-cluster')!;
    expect(inCluster).toHaveLength(1);
    expect(remotes.map((r) => r.name)).not.toContain(inCluster[0]);
    expect(flags.get('--local-cluster')).toEqual(inCluster);
  });
});

describe.each([
  ['base', base],
  ['overlays/cluster-b', clusterB],
])('deploy/%s serves xDS over mTLS', (_dir, objects) => {
  it('points --tls-cert/--tls-key/--tls-ca at the keys of the herald-tls Secret, mounted read-only', () => {
    const flags = serveFlags(container(objects).args);
    const mount = container(objects).volumeMounts.find((m: Obj) => m.name === 'tls');
    expect(mount).toMatchObject({ readOnly: true });
    const volume = podSpec(objects).volumes.find((v: Obj) => v.name === 'tls');
    // Required: a pod without its certificate must not start (it would serve plaintext).
    expect(volume.secret).toEqual({ secretName: 'herald-tls', defaultMode: 0o440 });
    // The key names of a kubernetes.io/tls Secret as cert-manager writes it.
    const expected = { '--tls-cert': 'tls.crt', '--tls-key': 'tls.key', '--tls-ca': 'ca.crt' };
    for (const [flag, key] of Object.entries(expected)) expect([flag, flags.get(flag)]).toEqual([flag, [path.posix.join(mount.mountPath, key)]]);
  });
});

describe('the overlay for a second cluster', () => {
  it('watches itself in-cluster and the first cluster remotely', () => {
    expect(serveFlags(container(base).args).get('--in-cluster')).toEqual(['cluster-a']);
    const flags = serveFlags(container(clusterB).args);
    expect(flags.get('--in-cluster')).toEqual(['cluster-b']);
    expect(flags.get('--cluster')).toEqual(['cluster-a=/etc/herald/kubeconfigs/cluster-a.kubeconfig']);
    for (const o of clusterB) expect([o.kind, o.metadata.labels?.['herald.io/kube-cluster']]).toEqual([o.kind, 'cluster-b']);
    // Selectors stay as in the base, so the overlay could be applied over an existing install.
    expect(one(clusterB, 'Deployment', 'herald').spec.selector).toEqual(one(base, 'Deployment', 'herald').spec.selector);
  });
});

describe('the example application', () => {
  it("runs in a namespace the base NetworkPolicy lets reach Herald's xDS port", () => {
    const namespace = one(renderDeploy('examples/sidecar') as Obj[], 'Namespace', 'shop');
    const xdsRule = one(base, 'NetworkPolicy', 'herald').spec.ingress.find((rule: Obj) => rule.ports.some((p: Obj) => p.port === 'grpc-xds'));
    expect(namespace.metadata.labels).toMatchObject(sourcesOf(xdsRule)[0]!.namespaceSelector.matchLabels);
  });
});

describe('deploy/ as a whole', () => {
  it('renders the base (`kubectl kustomize deploy/`)', () => {
    expect(renderYaml('.')).toBe(renderYaml('base'));
  });

  it('takes its RBAC objects from deploy/rbac unchanged but for the namespace', () => {
    const rbacFiles = ['namespace.yaml', 'serviceaccount.yaml', 'clusterrole.yaml', 'clusterrolebinding.yaml'];
    const shipped = rbacFiles.flatMap((f) => loadAllYaml(readFileSync(path.join(DEPLOY_DIR, 'rbac', f), 'utf8')) as KubernetesObject[]) as Obj[];
    for (const object of shipped) expect(one(base, object.kind, object.metadata.name)).toEqual(object);
    const ownFiles = ['deployment.yaml', 'service-xds.yaml', 'service-metrics.yaml', 'poddisruptionbudget.yaml', 'networkpolicy.yaml'];
    for (const f of ownFiles) expect(readFileSync(path.join(DEPLOY_DIR, 'base', f), 'utf8')).not.toMatch(/kind:\s*(Cluster)?Role/);
  });
});
