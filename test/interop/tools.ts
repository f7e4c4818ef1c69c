// Finds the Go interop tools that test/interop/build.sh builds, and runs envoy-validate.
// The tests do not build Go themselves: a build takes minutes on two cores and belongs to CI's
// setup (`bash test/interop/build.sh`), not to a test hook.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface InteropTools {
  dir: string;
  envoyValidate: string;
  grpcXdsProbe: string;
}

export type Located = { tools: InteropTools; reason?: undefined } | { tools?: undefined; reason: string };

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The built tools, from HERALD_INTEROP_BIN_DIR if set, else from the directory build.sh would
 * use for the current sources; or why they are not there.
 */
export function locateInteropTools(): Located {
  let dir = process.env.HERALD_INTEROP_BIN_DIR;
  if (!dir) {
    const probe = spawnSync('bash', [path.join(here, 'build.sh'), '--dir'], { encoding: 'utf8', timeout: 30_000 });
    if (probe.status !== 0) {
      return { reason: `Go interop tools unavailable: ${(probe.stderr || probe.error?.message || 'build.sh --dir failed').trim()}` };
    }
    dir = probe.stdout.trim();
  }
  const tools = {
    dir,
    envoyValidate: path.join(dir, 'envoy-validate'),
    grpcXdsProbe: path.join(dir, 'grpc-xds-probe'),
  };
  const missing = [tools.envoyValidate, tools.grpcXdsProbe].filter((file) => !executable(file));
  if (missing.length > 0) {
    return { reason: `Go interop tools not built (missing ${missing.map((f) => path.basename(f)).join(', ')}): run \`bash test/interop/build.sh\`` };
  }
  return { tools };
}

/**
 * What envoy-validate checks: a packed resource, a bootstrap, or any registered message by its
 * full name (e.g. the DiscoveryResponse of an SDS file).
 */
export type ValidateItem = { source: string; any: Uint8Array } | { source: string; bootstrap: object } | { source: string; type: string; message: object };

export interface ValidateResult {
  source: string;
  typeUrl: string;
  name: string;
  violations: string[];
}

export interface RunOptions {
  /** Path of envoy-validate; default: the located tool (throws with the reason when missing). */
  binary?: string;
  timeoutMs?: number;
}

/**
 * Runs every item through envoy-validate (one process for all of them) and returns one result
 * per item, in order. Rejects when the tool fails, times out or answers with the wrong count.
 */
export function runEnvoyValidate(items: readonly ValidateItem[], options: RunOptions = {}): Promise<ValidateResult[]> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  let binary = options.binary;
  if (binary === undefined) {
    const located = locateInteropTools();
    if (!located.tools) return Promise.reject(new Error(located.reason));
    binary = located.tools.envoyValidate;
  }
  const input = items.map((item) => JSON.stringify('any' in item ? { source: item.source, any: Buffer.from(item.any).toString('base64') } : item)).join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      reject(new Error(`envoy-validate did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4_000);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`envoy-validate exited with ${code}: ${stderr.trim()}`));
      try {
        resolve(parseResults(Buffer.concat(stdout).toString('utf8'), items.length));
      } catch (err) {
        reject(err);
      }
    });
    // The child may exit before reading everything (it should not); ignore EPIPE, 'close' reports.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input + '\n');
  });
}

function parseResults(output: string, expected: number): ValidateResult[] {
  const lines = output.split('\n').filter((line) => line.trim() !== '');
  const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const summary = parsed.at(-1);
  if (!summary || !('summary' in summary)) throw new Error('envoy-validate printed no summary line');
  const results = parsed.slice(0, -1) as unknown as ValidateResult[];
  if (results.length !== expected) throw new Error(`envoy-validate answered ${results.length} results for ${expected} items`);
  return results;
}

/** Every violation of every result, prefixed with its source: `[]` is the bar. */
export function allViolations(results: readonly ValidateResult[]): string[] {
  return results.flatMap((r) => r.violations.map((v) => `${r.source} (${r.typeUrl} "${r.name}"): ${v}`));
}
