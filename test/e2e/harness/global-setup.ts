import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { HERALD_MAIN, REPO_ROOT } from './herald.js';

const BUILD_SCRIPT = join(REPO_ROOT, 'test', 'e2e', 'build-bins.sh');
export const SKIP_MESSAGE = 'e2e skipped: Go not found; run test/e2e/build-bins.sh';

function goAvailable(): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

/**
 * Finds (or builds, when Go is here) kube-apiserver and etcd, and makes sure Herald is built.
 * Without binaries and without Go the e2e tier is skipped with one message — except on CI,
 * where it must run.
 */
export default function setup(project: TestProject): void {
  let bins = '';
  const cached = spawnSync('bash', [BUILD_SCRIPT, '--dir'], { encoding: 'utf8' });
  if (cached.status === 0) {
    bins = lastLine(cached.stdout);
  } else if (goAvailable()) {
    process.stderr.write('e2e: building kube-apiserver and etcd (first run only; takes minutes) ...\n');
    bins = lastLine(execFileSync('bash', [BUILD_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  } else if (process.env.CI) {
    throw new Error('e2e: Go not found and no cached kube-apiserver/etcd; CI must not skip the e2e tier (install Go, run test/e2e/build-bins.sh)');
  } else {
    process.stderr.write(`\n${SKIP_MESSAGE}\n\n`);
  }
  if (bins !== '' && !existsSync(HERALD_MAIN)) {
    process.stderr.write('e2e: dist/main.js missing; compiling Herald ...\n');
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO_ROOT, 'tsconfig.json')], {
      stdio: 'inherit',
    });
  }
  project.provide('e2eBins', bins);
}

/** What the global setup hands to the test files. */
export interface E2eProvided {
  /** Directory of kube-apiserver and etcd; '' when the tier is skipped. */
  e2eBins: string;
}

declare module 'vitest' {
  export interface ProvidedContext extends E2eProvided {}
}
