import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadYaml } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { HeraldMetrics } from '../../src/telemetry/index.js';
import { analysePromQL, analyseVariableQuery, type ExprUse } from './promql.js';

type Obj = Record<string, any>;

const here = path.dirname(fileURLToPath(import.meta.url));
const monitoring = path.resolve(here, '..', '..', 'monitoring');
const rulesFile = path.join(monitoring, 'prometheus-rules.yaml');
const rules = loadYaml<Obj>(readFileSync(rulesFile, 'utf8'));
const dashboard = JSON.parse(readFileSync(path.join(monitoring, 'grafana-dashboard.json'), 'utf8')) as Obj;

const allRules: Obj[] = rules.groups.flatMap((g: Obj) => g.rules);
const panels: Obj[] = dashboard.panels;
const dashboardExprs: string[] = panels.flatMap((p) => (p.targets ?? []).map((t: Obj) => t.expr as string));
const variableQueries: string[] = dashboard.templating.list.filter((v: Obj) => v.type === 'query').map((v: Obj) => v.query.query as string);

/** Every series name a live HeraldMetrics exposes, with its label names (as Prometheus sees them). */
function liveSeries(): Map<string, Set<string>> {
  const metrics = new HeraldMetrics();
  const series = new Map<string, Set<string>>();
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const { name, labelNames = [] } = metric as unknown as { name: string; labelNames?: string[] };
    const type = (metric as unknown as { type: string }).type;
    const labels = new Set<string>(labelNames);
    if (type === 'histogram') {
      series.set(`${name}_bucket`, new Set([...labels, 'le']));
      series.set(`${name}_sum`, labels);
      series.set(`${name}_count`, labels);
    } else if (type === 'summary') {
      series.set(name, new Set([...labels, 'quantile']));
      series.set(`${name}_sum`, labels);
      series.set(`${name}_count`, labels);
    } else {
      series.set(name, labels);
    }
  }
  return series;
}

// Labels Prometheus attaches at scrape time.
const TARGET_LABELS = ['instance', 'job'];

function problems(source: string, use: ExprUse, series: Map<string, Set<string>>): string[] {
  const found: string[] = [];
  const usable = new Set(TARGET_LABELS);
  for (const selector of use.selectors) {
    const labels = series.get(selector.metric);
    if (!labels) {
      found.push(`${source}: no metric ${selector.metric}`);
      continue;
    }
    labels.forEach((l) => usable.add(l));
    for (const label of selector.labels) {
      if (!labels.has(label) && !TARGET_LABELS.includes(label)) found.push(`${source}: ${selector.metric} has no label ${label}`);
    }
  }
  for (const label of use.groupingLabels) if (!usable.has(label)) found.push(`${source}: no metric in it has label ${label}`);
  if (use.selectors.length === 0) found.push(`${source}: uses no metric`);
  return found;
}

describe('analysePromQL', () => {
  it.each<[string, ExprUse]>([
    ['up == 0', { selectors: [{ metric: 'up', labels: [] }], groupingLabels: [] }],
    [
      'sum by (type) (rate(herald_xds_nacks_total{type="cluster", kind=~"a|b"}[5m])) > 0',
      { selectors: [{ metric: 'herald_xds_nacks_total', labels: ['type', 'kind'] }], groupingLabels: ['type'] },
    ],
    [
      'histogram_quantile(0.99, sum by (le) (rate(x_bucket{instance=~"$instance"}[$__rate_interval]))) > 1e3 and on() count(y) > 0',
      {
        selectors: [
          { metric: 'x_bucket', labels: ['instance'] },
          { metric: 'y', labels: [] },
        ],
        groupingLabels: ['le'],
      },
    ],
    [
      '(sum(a) or vector(0)) == 0 unless b offset 5m',
      {
        selectors: [
          { metric: 'a', labels: [] },
          { metric: 'b', labels: [] },
        ],
        groupingLabels: [],
      },
    ],
    [
      'a / ignoring(code) group_left(team) b{c="}{"}',
      {
        selectors: [
          { metric: 'b', labels: ['c'] },
          { metric: 'a', labels: [] },
        ],
        groupingLabels: ['code', 'team'],
      },
    ],
  ])('%s', (expr, use) => {
    expect(analysePromQL(expr)).toEqual(use);
  });

  it('reads Grafana label_values queries', () => {
    expect(analyseVariableQuery('label_values(herald_kube_cluster_synced, kube_cluster)')).toEqual({
      selectors: [{ metric: 'herald_kube_cluster_synced', labels: [] }],
      groupingLabels: ['kube_cluster'],
    });
  });

  it('finds a misspelt metric or label against the live registry', () => {
    const series = liveSeries();
    expect(problems('t', analysePromQL('rate(herald_xds_nack_total[5m])'), series)).toEqual(['t: no metric herald_xds_nack_total']);
    expect(problems('t', analysePromQL('herald_endpoints{cluster="a"}'), series)).toEqual(['t: herald_endpoints has no label cluster']);
    expect(problems('t', analysePromQL('sum by (api) (herald_endpoints)'), series)).toEqual(['t: no metric in it has label api']);
    expect(problems('t', analysePromQL('herald_drain_propagation_seconds_bucket{le="1"}'), series)).toEqual([]);
  });
});

describe('every metric the rules and the dashboard use exists in HeraldMetrics', () => {
  const series = liveSeries();

  it('has the series the check relies on', () => {
    for (const name of ['herald_xds_streams', 'herald_drain_propagation_seconds_bucket', 'herald_process_start_time_seconds']) {
      expect([name, series.has(name)]).toEqual([name, true]);
    }
  });

  it('alert rules', () => {
    expect(allRules.flatMap((r) => problems(`alert ${r.alert}`, analysePromQL(r.expr), series))).toEqual([]);
  });

  it('dashboard panels and variables', () => {
    expect(dashboardExprs.length).toBeGreaterThan(10);
    const found = [
      ...dashboardExprs.flatMap((expr) => problems(`panel expr ${expr}`, analysePromQL(expr), series)),
      ...variableQueries.flatMap((q) => problems(`variable ${q}`, analyseVariableQuery(q), series)),
    ];
    expect(found).toEqual([]);
  });
});

describe('prometheus-rules.yaml', () => {
  it('has the alerts operators need, each with severity and a summary', () => {
    const names = allRules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of allRules) {
      expect(['warning', 'critical']).toContain(rule.labels?.severity);
      expect(typeof rule.annotations?.summary).toBe('string');
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
    }
    const uses = (metric: string) => allRules.filter((r) => analysePromQL(r.expr).selectors.some((s) => s.metric === metric)).map((r) => r.alert);
    expect(uses('herald_kube_cluster_synced')).toContain('HeraldKubeClusterUnsynced');
    expect(uses('herald_xds_nacks_total').length).toBeGreaterThan(0);
    expect(uses('herald_drain_propagation_seconds_bucket').length).toBeGreaterThan(0);
    expect(uses('herald_xds_streams')).toContain('HeraldNoXdsClients');
    expect(uses('herald_process_start_time_seconds')).toContain('HeraldDown');
    expect(uses('herald_nodejs_eventloop_lag_p99_seconds')).toContain('HeraldEventLoopLagHigh');
    expect(uses('herald_xds_limit_exceeded_total')).toContain('HeraldXdsClientsOverLimits');
    expect(uses('herald_xds_connections_refused_total')).toContain('HeraldXdsConnectionsRefused');
    expect(uses('herald_tls_certificate_expiry_timestamp_seconds')).toContain('HeraldTlsCertificateExpiringSoon');
    expect(uses('herald_tls_reload_failures_total')).toContain('HeraldTlsReloadFailing');
    expect(uses('herald_xds_identity_refused_total')).toContain('HeraldXdsIdentityRefused');
    expect(uses('herald_xds_envoy_streams')).toContain('HeraldOldEnvoys');
    expect(allRules.find((r) => r.alert === 'HeraldKubeClusterUnsynced')!.for).toBe('5m');
  });

  const promtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!promtool)(`passes promtool check and the alert unit tests${promtool ? '' : ' (promtool not installed: apt-get install prometheus)'}`, () => {
    const check = spawnSync('promtool', ['check', 'rules', rulesFile], { encoding: 'utf8', timeout: 60_000 });
    expect(check.stdout + check.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(check.status).toBe(0);
    const tests = spawnSync('promtool', ['test', 'rules', path.join(here, 'rules.test.yaml')], { encoding: 'utf8', timeout: 60_000 });
    expect(tests.stdout + tests.stderr).toMatch(/SUCCESS/);
    expect(tests.status).toBe(0);
  });
});

describe('grafana-dashboard.json', () => {
  it('is a self-contained dashboard with a Prometheus data source variable', () => {
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    const ds = dashboard.templating.list.find((v: Obj) => v.type === 'datasource');
    expect(ds).toMatchObject({ name: 'datasource', query: 'prometheus' });
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      expect([panel.title, panel.datasource]).toEqual([panel.title, { type: 'prometheus', uid: '${datasource}' }]);
      const refIds = panel.targets.map((t: Obj) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
    }
  });

  it('lays out panels with unique ids and no overlap on the 24-column grid', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const taken = new Set<string>();
    for (const { gridPos: g, title } of panels) {
      expect([title, g.x + g.w <= 24 && g.x >= 0 && g.w > 0 && g.h > 0]).toEqual([title, true]);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect([title, taken.has(`${x},${y}`)]).toEqual([title, false]);
          taken.add(`${x},${y}`);
        }
      }
    }
  });

  it('shows drains, sync, endpoints by health and clients', () => {
    const used = new Set(dashboardExprs.flatMap((e) => analysePromQL(e).selectors.map((s) => s.metric)));
    for (const metric of ['herald_drain_propagation_seconds_bucket', 'herald_kube_cluster_synced', 'herald_endpoints', 'herald_xds_streams', 'herald_xds_nacks_total']) {
      expect([metric, used.has(metric)]).toEqual([metric, true]);
    }
  });
});
