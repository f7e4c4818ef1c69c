import { describe, expect, it } from 'vitest';
import { cpuPerDrainMs, zoneProblems, zonesSection, zoneTargets } from '../../bench/report-zones.js';
import type { ResultFile } from '../../bench/run.js';
import type { RunResult, ZoneChecks } from '../../bench/scenario.js';
import { summarize } from '../../bench/stats.js';

const STREAMS = 300;

/** A zoned run: its drains `ms`, Herald's CPU over them `cpuSeconds`; the checks all good unless `checks` says otherwise. */
function run(zones: number, ms: number[], cpuSeconds: number, extra: { checks?: Partial<ZoneChecks>; perspectives?: number } = {}): RunResult {
  const checks: ZoneChecks = { distinctZones: ms.map(() => zones), ownZoneFirst: ms.map(() => STREAMS), wrongZone: 0, ...extra.checks };
  const cpu = { wallSeconds: 10, serverCpuSeconds: cpuSeconds, loadgenMaxUtil: 0.1, loadgenCpuSeconds: 1 };
  return {
    subject: 'herald',
    point: { streams: STREAMS, services: 101, endpoints: 3_000, clusters: 3, rolloutPods: 20, drains: ms.length, zones },
    startedAt: '2030-01-02T03:04:05.000Z',
    storm: { seconds: 2, fullStreams: STREAMS, streams: STREAMS, bytes: 0, cpu },
    drains: { attempted: ms.length, completed: ms.length, everyReceivedMs: ms, everyAckedMs: ms, perStream: summarize(ms), bytesPerDrain: 2e6, serverTrackedMs: [], cpu, zones: checks },
    variants: { services: 100, variants: 100 * zones, perspectives: extra.perspectives ?? zones },
    deploy: undefined,
    server: { cpuSeconds: 5, peakRssMb: 300, endRssMb: 250 },
    loadgen: { cpuSeconds: 1, peakRssMb: 100 },
    notes: [],
  };
}

const file = (runs: RunResult[]): ResultFile => ({
  label: 'zones',
  runs,
  machine: { cpu: 'Test CPU', cores: 2, memoryGb: 8, node: 'v24.0.0', go: 'go1', loadgen: 'go', loadBefore: [3, 2, 1], loadAfter: [4, 3, 2] },
  command: 'node .cache/bench-js/bench/run.js --points 300:101:3000 --subjects herald --zones 1,3,1,3 --label zones',
  date: '2030-01-02T03:04:05.000Z',
});

const verdict = (f: ResultFile, id: string) => zoneTargets(f).find((v) => v.id === id);

describe('the zone variants section', () => {
  it('takes CPU per drain from the drain series and compares the medians of the runs of each zone count', () => {
    expect(cpuPerDrainMs(run(1, [10, 20], 0.5))).toBe(250);
    // Z=1 runs: 250 and 300 ms a drain; Z=3: 280 and 320. Nearest-rank medians: 250 and 280, 1.12×.
    const f = file([run(1, [10, 20], 0.5), run(3, [12, 22], 0.56), run(1, [10, 20], 0.6), run(3, [12, 22], 0.64)]);
    expect(verdict(f, 'cpu')).toMatchObject({ met: true, measured: '280.0 vs 250.0 ms: 1.12×' });
    expect(verdict(f, 'latency')).toMatchObject({ met: true });
    expect(verdict(f, 'correct')).toMatchObject({ met: true, measured: '4 runs, no error' });
    // Z=3 at 1.5× the CPU: not met.
    const costly = file([run(1, [10, 20], 0.5), run(3, [10, 20], 0.75)]);
    expect(verdict(costly, 'cpu')).toMatchObject({ met: false, measured: '375.0 vs 250.0 ms: 1.50×' });
    // Slower drains, same CPU: the latency row fails alone.
    const slow = file([run(1, [100, 100], 0.5), run(3, [130, 130], 0.5)]);
    expect(verdict(slow, 'latency')!.met).toBe(false);
    expect(verdict(slow, 'cpu')!.met).toBe(true);
  });

  it('counts a stream sent another zone first, a drain short of streams or zones or with no check at all, and the wrong number of perspectives as errors', () => {
    expect(zoneProblems(run(3, [10], 0.1))).toEqual([]);
    expect(zoneProblems(run(3, [10], 0.1, { checks: { wrongZone: 2 } }))).toEqual(['2 streams sent a drain without their own zone alone at priority 0']);
    expect(zoneProblems(run(3, [10], 0.1, { checks: { ownZoneFirst: [STREAMS - 1] } }))).toEqual([`1 drains checked by fewer than ${STREAMS} streams`]);
    expect(zoneProblems(run(3, [10], 0.1, { checks: { distinctZones: [1] } }))).toEqual(['1 drains seen first in other than 3 zones']);
    expect(zoneProblems(run(3, [10], 0.1, { perspectives: 1 }))).toEqual(['Herald held 1 perspectives, not 3']);
    expect(zoneProblems(run(3, [10, 12], 0.1, { checks: { ownZoneFirst: [STREAMS], distinctZones: [3] } }))).toEqual(['1 drains with no zone check reported']);
    const f = file([run(1, [10], 0.1), run(3, [10], 0.1, { checks: { wrongZone: 5 } })]);
    expect(verdict(f, 'correct')).toMatchObject({ met: false });
    expect(verdict(f, 'correct')!.measured).toContain('Z=3 run 2: 5 streams');
  });

  it('has no target rows without runs of both zone counts, and writes every run in order', () => {
    expect(zoneTargets(file([run(3, [10], 0.1)]))).toEqual([]);
    const lines = zonesSection(file([run(1, [10, 20], 0.5), run(3, [12, 22], 0.6)]), 'bench/results/zones.json').join('\n');
    expect(lines).toContain('## Zone variants');
    expect(lines).toContain('load average 3.0 2.0 1.0 before, 4.0 3.0 2.0 after');
    expect(lines).toMatch(/\| 1 \| 1 \| 1 \/ 100 \/ 100 \| 250\.0 \|/);
    expect(lines).toMatch(/\| 2 \| 3 \| 3 \/ 300 \/ 100 \| 300\.0 \|/);
    expect(lines).toContain('| met |');
  });
});
