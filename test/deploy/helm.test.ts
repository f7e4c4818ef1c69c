// Issue 21 part 1: charts/herald renders the same objects as deploy/ for the same settings, and
// passes `helm lint`. The only difference allowed is what Helm itself adds to every object's
// labels (helm.sh/chart, app.kubernetes.io/managed-by): the comparison strips those two.
// The chart's output is compared as text after passing through the same kustomize (a
// kustomization over it whose JSON patches remove those labels), so both sides are printed
// alike and no field is lost to a typed model on the way.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { findOne, kustomizeBinary, renderDeploy, renderYaml } from './kustomize.js';
import { lintChart, renderChart, renderChartYaml } from './helm.js';

type Obj = Record<string, any>;

const HELM_LABELS = ['helm.sh/chart', 'app.kubernetes.io/managed-by'];

/** The chart's output printed by kustomize, with Helm's own labels removed. */
function chartThroughKustomize(values: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-chart-'));
  try {
    writeFileSync(path.join(dir, 'chart.yaml'), renderChartYaml(values));
    const patches = HELM_LABELS.map((label) => ({
      target: { labelSelector: label },
      patch: JSON.stringify([{ op: 'remove', path: `/metadata/labels/${label.replace('~', '~0').replace('/', '~1')}` }]),
    }));
    writeFileSync(path.join(dir, 'kustomization.yaml'), JSON.stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['chart.yaml'], patches }));
    return execFileSync(kustomizeBinary(), ['build', dir], { encoding: 'utf8', timeout: 60_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const key = (o: Obj) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;

// Settings under which the chart must give what a kustomization gives.
const CASES: [string, string, Record<string, unknown>][] = [
  ['base (cluster-a)', 'base', { createNamespace: true }],
  [
    'overlays/cluster-b',
    'overlays/cluster-b',
    { createNamespace: true, clusterName: 'cluster-b', remoteClusters: [{ name: 'cluster-a' }], replicas: 2, commonLabels: { 'herald.io/kube-cluster': 'cluster-b' } },
  ],
];

describe('charts/herald', () => {
  it('passes helm lint, with defaults and with every optional part on', () => {
    expect(lintChart()).toMatch(/0 chart\(s\) failed/);
    expect(lintChart({ serviceMonitor: { enabled: true }, adminToken: { enabled: true }, tls: { enabled: false }, policyStatus: { enabled: true } })).toMatch(/0 chart\(s\) failed/);
  });

  it.each(CASES)('renders what kustomize renders for deploy/%s', (_name, dir, values) => {
    const documents = (text: string) => text.split(/^---$/m).map((d) => d.trim());
    expect(documents(chartThroughKustomize(values))).toEqual(documents(renderYaml(dir)));
  });

  it('labels every object it renders with helm.sh/chart and managed-by (the labels the comparison strips)', () => {
    for (const o of renderChart({ createNamespace: false }) as Obj[]) {
      expect(Object.keys(o.metadata.labels), key(o)).toEqual(expect.arrayContaining(HELM_LABELS));
    }
  });

  it('with policyStatus on, passes --policy-status and grants exactly what deploy/rbac-policy-status grants', () => {
    const objects = renderChart({ policyStatus: { enabled: true } }) as Obj[];
    expect(findOne(objects, 'Deployment', 'herald').spec.template.spec.containers[0].args).toContain('--policy-status');
    const shipped = findOne(renderDeploy('rbac-policy-status') as Obj[], 'ClusterRole', 'herald-policy-status');
    expect(findOne(objects, 'ClusterRole', 'herald-policy-status').rules).toEqual(shipped.rules);
    expect(findOne(objects, 'ClusterRoleBinding', 'herald-policy-status').roleRef.name).toBe('herald-policy-status');
    // Off by default: no status permission, no flag.
    const plain = renderChart({}) as Obj[];
    expect(plain.filter((o) => o.metadata.name === 'herald-policy-status')).toEqual([]);
    expect(findOne(plain, 'Deployment', 'herald').spec.template.spec.containers[0].args).not.toContain('--policy-status');
  });

  it('turns its knobs into the Deployment and extra objects', () => {
    const objects = renderChart({
      image: { repository: 'registry.example/herald', tag: '1.2.3' },
      remoteClusters: [{ name: 'b' }, { name: 'c', context: 'ctx', secretName: 'herald-kubeconfig-c', key: 'kc' }],
      tls: { enabled: false },
      adminToken: { enabled: true },
      nodeOptions: '--max-old-space-size=1500',
      resources: { limits: { memory: '2Gi' } },
      extraArgs: ['--service-label', 'app.kubernetes.io/name'],
      podDisruptionBudget: { enabled: false },
      networkPolicy: { enabled: false },
      serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
    }) as Obj[];
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'Deployment',
      'Service',
      'Service',
      'ServiceAccount',
      'ServiceMonitor',
    ]);
    const pod = findOne(objects, 'Deployment', 'herald').spec.template.spec;
    const c = pod.containers[0];
    expect(c.image).toBe('registry.example/herald:1.2.3');
    expect(c.args).toEqual([
      'serve',
      '--in-cluster',
      'cluster-a',
      '--local-cluster',
      'cluster-a',
      '--cluster',
      'b=/etc/herald/kubeconfigs/b.kubeconfig',
      '--cluster',
      'c=/etc/herald/remote/c/kc#ctx',
      '--admin-token-file',
      '/etc/herald/admin-token/token',
      '--service-label',
      'app.kubernetes.io/name',
    ]);
    expect(c.env).toEqual([{ name: 'NODE_OPTIONS', value: '--max-old-space-size=1500' }]);
    // Helm merges a map value into the defaults: the rest of resources stays.
    expect({ ...c.resources }).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '2', memory: '2Gi' } });
    expect(pod.volumes.map((v: Obj) => [v.name, v.secret?.secretName, v.secret?.optional])).toEqual([
      ['kubeconfigs', 'herald-kubeconfigs', undefined],
      ['kubeconfig-c', 'herald-kubeconfig-c', undefined],
      ['admin-token', 'herald-admin-token', false],
      ['tmp', undefined, undefined],
    ]);
    const monitor = findOne(objects, 'ServiceMonitor', 'herald');
    expect(monitor.metadata.labels.release).toBe('prometheus');
    expect(monitor.spec.endpoints).toEqual([{ port: 'http-admin', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }]);
  });
});
