// The proxyless xDS clients written by others that the interop tests run against Herald, each a
// probe speaking xds-probe.ts's protocol. Each locates its built probe or says why it cannot.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { locateJavaProbe } from './java/locate.js';
import { locateInteropTools } from './tools.js';
import type { ProbeLaunch } from './xds-probe.js';

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

const here = path.dirname(fileURLToPath(import.meta.url));

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

/** Every client the interop tier runs, in the order their suites run. */
export const PROXYLESS_CLIENTS: readonly ProxylessClient[] = [GRPC_JS, GRPC_GO, GRPC_JAVA];
