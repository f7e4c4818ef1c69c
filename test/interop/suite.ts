// Registers a test suite that needs the Go interop tools: run it when they are built, skip it
// with one clear message when they are not — unless CI is set, where a missing tool is a failure
// (CI builds them first, so a skip there would hide a broken setup).
import { describe, it } from 'vitest';
import { locateInteropTools, type InteropTools } from './tools.js';

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
  if (inCi()) {
    describe(name, () => {
      it('has the Go interop tools built (CI is set, so this does not skip)', () => {
        throw new Error(located.reason);
      });
    });
    return;
  }
  console.warn(`[interop] skipping "${name}": ${located.reason}`);
  describe.skip(`${name} (skipped: ${located.reason})`, () => {
    it('needs the Go interop tools', () => undefined);
  });
}
