// The proxyless xDS clients written by others that the interop tests run against Herald, each a
// probe speaking xds-probe.ts's protocol. Each locates its built probe or says why it cannot.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { locateJavaProbe } from './java/locate.js';
import { locateInteropTools } from './tools.js';
import type { ProbeLaunch } from './xds-probe.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export type LocatedProbe = { launch: ProbeLaunch; reason?: undefined } | { launch?: undefined; reason: string };

export interface ProxylessClient {
  /** Short name, used as a test title and node id prefix: grpc-js, grpc-go, grpc-java, grpc-core. */
  name: string;
  /** The implementation, for messages and docs. */
  implementation: string;
  locate(): LocatedProbe;
}

export const GRPC_GO: ProxylessClient = {
  name: 'grpc-go',
  implementation: "grpc-go's xDS resolver and balancers (test/interop/go/cmd/grpc-xds-probe)",
  locate() {
    const located = locateInteropTools();
    return located.tools ? { launch: { command: located.tools.grpcXdsProbe, args: [] } } : { reason: located.reason };
  },
};

export const GRPC_JS: ProxylessClient = {
  name: 'grpc-js',
  implementation: "@grpc/grpc-js-xds's resolver and balancers (test/interop/node/xds-probe.mjs)",
  // Nothing to build: the package is a dev dependency, run by the Node running the tests.
  locate: () => ({ launch: { command: process.execPath, args: [path.join(here, 'node', 'xds-probe.mjs')] } }),
};

export const GRPC_JAVA: ProxylessClient = {
  name: 'grpc-java',
  implementation: "grpc-java's xDS resolver and balancers, grpc-xds (test/interop/java)",
  locate: locateJavaProbe,
};

/** Written last by test/interop/python/build.sh: the virtual environment is complete. */
const PYTHON_STAMP = '.herald-complete';

export const GRPC_CORE: ProxylessClient = {
  name: 'grpc-core',
  implementation: "gRPC C-core's xDS client through Python grpcio (test/interop/python/xds_probe.py)",
  locate() {
    const build = 'bash test/interop/python/build.sh';
    const dirOf = spawnSync('bash', [path.join(here, 'python', 'build.sh'), '--dir'], { encoding: 'utf8', timeout: 30_000 });
    if (dirOf.status !== 0) {
      return { reason: `gRPC C-core probe unavailable: ${(dirOf.stderr || dirOf.error?.message || `${build} --dir failed`).trim()}` };
    }
    const venv = dirOf.stdout.trim();
    const python = path.join(venv, 'bin', 'python');
    try {
      accessSync(python, constants.X_OK);
    } catch {
      return { reason: `gRPC C-core probe not built (no ${python}): run \`${build}\`` };
    }
    if (!existsSync(path.join(venv, PYTHON_STAMP))) {
      return { reason: `gRPC C-core probe's environment ${venv} is incomplete: run \`${build}\`` };
    }
    // The script runs from the source tree: the directory's hash covers it.
    return { launch: { command: python, args: [path.join(here, 'python', 'xds_probe.py')] } };
  },
};

/** Every client the interop tier runs, in the order their suites run. */
export const PROXYLESS_CLIENTS: readonly ProxylessClient[] = [GRPC_JS, GRPC_GO, GRPC_JAVA, GRPC_CORE];
