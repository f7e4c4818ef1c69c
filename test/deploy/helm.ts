// Renders charts/herald with the pinned helm (deploy/tools/build-go-tool.sh, built on first
// use; HERALD_HELM names another binary), for the equivalence test here and the e2e dry run.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import { goToolBinary, REPO_ROOT } from './kustomize.js';

export const CHART_DIR = path.join(REPO_ROOT, 'charts', 'herald');

export function helmBinary(): string {
  return goToolBinary('helm', 'HERALD_HELM');
}

/** `helm template` of the chart into `namespace`, with values given as JSON (so lists and maps need no --set escaping). */
export function renderChartYaml(values: Record<string, unknown> = {}, namespace = 'herald'): string {
  return execFileSync(helmBinary(), ['template', 'herald', CHART_DIR, '--namespace', namespace, '--values', '-'], {
    input: JSON.stringify(values),
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 16 << 20,
  });
}

export function renderChart(values: Record<string, unknown> = {}, namespace = 'herald'): KubernetesObject[] {
  return (loadAllYaml(renderChartYaml(values, namespace)) as (KubernetesObject | null)[]).filter((o): o is KubernetesObject => o !== null);
}

/** `helm lint` of the chart; its output, or throws with it when the lint fails. */
export function lintChart(values: Record<string, unknown> = {}): string {
  return execFileSync(helmBinary(), ['lint', CHART_DIR, '--values', '-'], { input: JSON.stringify(values), encoding: 'utf8', timeout: 60_000 });
}
