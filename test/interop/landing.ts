// Where a proxyless client's calls land, once its balancing has settled.
import type { CallReport, XdsProbe } from './xds-probe.js';

/** The backends a round of calls reached, sorted and joined with '+' ('nothing' when none). */
export function landed(report: CallReport): string {
  return Object.keys(report.backends).sort().join('+') || 'nothing';
}

/** Calls in rounds until one round lands on a stable set of backends twice in a row; a failed call fails it. */
export async function settledLanding(probe: XdsProbe, calls = 30): Promise<string> {
  let previous = '';
  for (let round = 0; round < 30; round++) {
    const report = await probe.call(calls);
    if (report.errors > 0) throw new Error(`${report.errors} calls failed: ${report.lastError}; ${probe.stderr}`);
    const now = landed(report);
    if (now === previous) return now;
    previous = now;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no stable landing within 30 rounds; last: ${previous}`);
}
