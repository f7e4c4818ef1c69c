// Registers a test suite that needs built interop tools (the Go tools, a proxyless client's
// probe): run it when they are built, skip it with one clear message when they are not — unless
// CI is set, where a missing tool is a failure (CI builds them first, so a skip there would hide a
// broken setup).
import { describe, it } from 'vitest';
import type { LocatedProbe, ProxylessClient } from './probe-clients.js';
import { locateInteropTools, type InteropTools } from './tools.js';
import type { ProbeLaunch } from './xds-probe.js';

function inCi(): boolean {
  const value = process.env.CI;
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

export function interopSuite(name: string, body: (tools: InteropTools) => void): void {
  const located = locateInteropTools();
  if (located.tools) {
    const tools = located.tools;
    describe(name, () => body(tools));
    return;
  }
  missingTools(name, located.reason);
}

/** A suite run against one proxyless client's probe, gated like interopSuite on the probe being built. */
export function probeSuite(name: string, client: ProxylessClient, body: (launch: ProbeLaunch) => void): void {
  const located: LocatedProbe = client.locate();
  if (located.launch) {
    const launch = located.launch;
    describe(name, () => body(launch));
    return;
  }
  missingTools(name, located.reason);
}

function missingTools(name: string, reason: string): void {
  if (inCi()) {
    describe(name, () => {
      it('has the interop tools built (CI is set, so this does not skip)', () => {
        throw new Error(reason);
      });
    });
    return;
  }
  console.warn(`[interop] skipping "${name}": ${reason}`);
  describe.skip(`${name} (skipped: ${reason})`, () => {
    it('needs the interop tools', () => undefined);
  });
}
