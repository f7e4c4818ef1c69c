import { describe, expect, it } from 'vitest';
import { scopedSection, scopedTargets } from '../../bench/report-scoped.js';
import type { ResultFile } from '../../bench/run.js';
import type { DrainSeries, RunResult } from '../../bench/scenario.js';
import { summarize } from '../../bench/stats.js';

const cpu = { wallSeconds: 1, serverCpuSeconds: 1, loadgenMaxUtil: 0.1, loadgenCpuSeconds: 1 };

function series(ms: number[], leaked = 0): DrainSeries {
  return { attempted: ms.length, completed: ms.length, everyReceivedMs: ms, everyAckedMs: ms, dependents: ms.map(() => 300), leaked, perStream: summarize(ms), bytesPerDrain: 1e4 };
}

/** A run at the scoped target point (or unscoped), its uniform drains `uniform` ms, the popular ones `popular` ms. */
function run(subject: string, uniform: number[], popular: number[], extra: { floorMs?: number[]; leaked?: number; rssMb?: number; scoped?: boolean } = {}): RunResult {
  const scoped = extra.scoped ?? true;
  const drains = series(uniform, extra.leaked ?? 0);
  return {
    subject,
    point: { streams: 10_000, services: 600, endpoints: 30_000, clusters: 3, rolloutPods: 100, drains: uniform.length, ...(scoped ? { scope: { dependencies: 20, sets: 500 } } : {}) },
    startedAt: '2030-01-02T03:04:05.000Z',
    storm: { seconds: 4, fullStreams: 10_000, streams: 10_000, bytes: 0, cpu },
    drains: { ...drains, serverTrackedMs: [], cpu, ...(scoped ? { dependents: drains.dependents, leaked: drains.leaked } : {}) },
    ...(scoped
      ? {
          scope: {
            dependencies: 20,
            sets: 500,
            distinctSets: 500,
            dependentsMin: 0,
            dependentsMax: 9_740,
            dependentsMean: 333,
            popular: { ...series(popular), service: 'svc-0001', dependentsOfService: 9_740 },
            ...(extra.floorMs ? { floorMs: extra.floorMs } : {}),
            outOfScope: 0,
          },
        }
      : {}),
    deploy: { pods: 100, completed: 100, everyReceivedMs: [1], seconds: 5, bytes: 0, cpu: undefined },
    server: { cpuSeconds: 1, peakRssMb: extra.rssMb ?? 400, endRssMb: 300 },
    loadgen: { cpuSeconds: 1, peakRssMb: 100 },
    notes: [],
  };
}

const MACHINE: ResultFile['machine'] = { cpu: 'Test CPU', cores: 2, memoryGb: 8, node: 'v24.0.0', go: 'go1', loadgen: 'go', loadBefore: [0, 0, 0], loadAfter: [0, 0, 0] };
const file = (runs: RunResult[], label = 'scoped'): ResultFile => ({
  label,
  runs,
  machine: MACHINE,
  command: 'node .cache/bench-js/bench/run.js --points 10000:600:30000:20:500',
  date: '2030-01-02T03:04:05.000Z',
});

const verdict = (f: ResultFile, id: string, baseline?: ResultFile) => scopedTargets(f, baseline).find((v) => v.id === id);

describe('the scoped targets', () => {
  const good = file([
    run('herald', [40, 60, 90], [150, 160, 170], { floorMs: [120, 110, 130] }),
    run('peer-snapshot', [900, 950, 1000], [2000]),
    run('peer-linear', [600, 700, 800], [1500]),
  ]);

  it('are met by a run within every bound', () => {
    const verdicts = scopedTargets(good);
    expect(verdicts.map((v) => v.id)).toEqual(['drain', 'popular-floor', 'storm', 'rss', 'peer-drain', 'peer-popular', 'leaks']);
    expect(verdicts.filter((v) => !v.met)).toEqual([]);
    expect(verdict(good, 'popular-floor')!.measured).toContain('1.33×');
  });

  it('are not met past a bound: drain, floor, RSS, peer ratio, leaks', () => {
    expect(verdict(file([run('herald', [40, 101], [150], { floorMs: [120] })]), 'drain')!.met).toBe(false);
    expect(verdict(file([run('herald', [40], [181], { floorMs: [120] })]), 'popular-floor')!.met).toBe(false);
    expect(verdict(file([run('herald', [40], [150])]), 'popular-floor')!.met).toBe(false);
    expect(verdict(file([run('herald', [40], [150], { rssMb: 600 })]), 'rss')!.met).toBe(false);
    expect(verdict(file([run('herald', [100], [150]), run('peer-linear', [499], [1500])]), 'peer-drain')!.met).toBe(false);
    expect(verdict(file([run('herald', [40], [150], { leaked: 1 })]), 'leaks')!.met).toBe(false);
  });

  it("hold the unscoped 10k figures to today's, when the file has them", () => {
    const today = file([run('herald', [500, 556], [], { scoped: false })], 'full');
    const same = file([...good.runs, run('herald', [520, 600], [], { scoped: false })]);
    expect(verdict(same, 'unscoped', today)!.met).toBe(true);
    const worse = file([...good.runs, run('herald', [520, 700], [], { scoped: false })]);
    expect(verdict(worse, 'unscoped', today)!.met).toBe(false);
    expect(verdict(good, 'unscoped', today)).toBeUndefined();
  });

  it('render a section with the shape, the verdicts and every server', () => {
    const text = scopedSection(good, 'bench/results/scoped.json').join('\n');
    expect(text).toContain('## Scoped mesh');
    expect(text).toContain('### S=10000 N=600 E=30000 K=3 D=20 G=500');
    expect(text).toContain('svc-0001, has 9,740');
    for (const name of ['| Herald |', '| SnapshotCache |', '| LinearCache |']) expect(text).toContain(name);
    expect(text).not.toContain('**not met**');
  });

  it("give Herald's memory after each series of drains and its tracker's figure, when recorded", () => {
    const herald = run('herald', [40], [150], { floorMs: [120] });
    herald.serverMemory = { heapUsedMb: 265, externalMb: 180, arrayBuffersMb: 170, rssMb: 830 };
    herald.scope!.memoryAfter = { heapUsedMb: 531, externalMb: 190, arrayBuffersMb: 176, rssMb: 1098 };
    herald.scope!.serverTrackedMs = [200, 180, 220];
    const text = scopedSection(file([herald]), 'bench/results/scoped.json').join('\n');
    expect(text).toContain("after the uniform drains: V8 heap used 265, external 180, RSS 830; after the most popular service's: V8 heap used 531, external 190, RSS 1098.");
    expect(text).toContain('median 200 ms');
  });
});
