// Renders deploy/ kustomizations into Kubernetes objects, for tests here and for the e2e tier
// (which applies them with server-side dry-run). kustomize is the pinned build from
// deploy/tools/build-go-tool.sh, made on first use; HERALD_KUSTOMIZE names another binary.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEPLOY_DIR = path.join(REPO_ROOT, 'deploy');

const cachedBinaries = new Map<string, string>();

/**
 * Path of a pinned deployment tool built from its Go module by deploy/tools/build-go-tool.sh
 * (~1 min or more the first time), or the binary the environment variable names.
 */
export function goToolBinary(tool: 'kustomize' | 'helm', envVar: string): string {
  const fromEnv = process.env[envVar];
  if (fromEnv) return fromEnv;
  const cached = cachedBinaries.get(tool);
  if (cached) return cached;
  const script = path.join(DEPLOY_DIR, 'tools', 'build-go-tool.sh');
  const out = execFileSync('bash', [script, tool], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 540_000 });
  const binary = out.trim().split('\n').at(-1)!;
  cachedBinaries.set(tool, binary);
  return binary;
}

/** Path of a kustomize binary, building the pinned one if needed. */
export function kustomizeBinary(): string {
  return goToolBinary('kustomize', 'HERALD_KUSTOMIZE');
}

/** `kustomize build` of a directory relative to deploy/ (e.g. 'base', 'overlays/cluster-b'), as YAML text. */
export function renderYaml(dir: string): string {
  return execFileSync(kustomizeBinary(), ['build', path.resolve(DEPLOY_DIR, dir)], { encoding: 'utf8', timeout: 60_000, maxBuffer: 16 << 20 });
}

/**
 * The objects a kustomization renders, in kustomize's order (Namespace and cluster-scoped RBAC
 * first), ready for KubernetesObjectApi.create/patch with dryRun: 'All'.
 */
export function renderDeploy(dir: string): KubernetesObject[] {
  return loadAllYaml(renderYaml(dir)) as KubernetesObject[];
}

/** The one rendered object of this kind and name; throws when there is none or more than one. */
export function findOne<T extends KubernetesObject>(objects: readonly T[], kind: string, name: string): T {
  const found = objects.filter((o) => o.kind === kind && o.metadata?.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind}/${name}, rendered ${found.length}`);
  return found[0]!;
}
