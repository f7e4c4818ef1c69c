// Builds the Go checker from test/interop/go (go-control-plane's generated types and PGV rules,
// the same ones Envoy enforces) and runs it over bootstraps. The binary lands in a temp dir;
// Go's build cache makes the second build cheap.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const interopDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'interop', 'go');

export interface ValidateResult {
  source: string;
  typeUrl: string;
  violations: string[] | null;
}

export function goAvailable(): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}

export function buildEnvoyValidate(): string {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'herald-envoy-validate-')), 'envoy-validate');
  execFileSync('go', ['build', '-o', out, './cmd/envoy-validate'], { cwd: interopDir, stdio: ['ignore', 'ignore', 'inherit'], timeout: 540_000 });
  return out;
}

export function validateBootstraps(binary: string, items: { source: string; bootstrap: object }[]): ValidateResult[] {
  const input = items.map((item) => JSON.stringify(item)).join('\n') + '\n';
  const output = execFileSync(binary, [], { input, encoding: 'utf8', timeout: 60_000 });
  const lines = output.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  return lines.filter((line) => !('summary' in line)) as unknown as ValidateResult[];
}
