import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { didNotFinishMarks, drainPlot, layout, type Series } from '../../bench/plot.js';
import { drainLabel, drainTail, renderPlot, renderReport, targets } from '../../bench/report.js';
import { limitsOfCommand } from '../../bench/run-options.js';
import type { ResultFile } from '../../bench/run.js';
import type { RunResult } from '../../bench/scenario.js';
import type { SoakResult } from '../../bench/soak.js';
import { summarize, tailLabel } from '../../bench/stats.js';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** A run in which every drain reached every stream in `drainsMs`, or, with `drainsMs` null, none did. */
function run(subject: string, streams: number, drains: number, drainsMs: number[] | null, endpoints = 30_000): RunResult {
  const every = drainsMs ?? [];
  return {
    subject,
    point: { streams, services: 600, endpoints, clusters: 3, rolloutPods: 100, drains },
    startedAt: '2030-01-02T03:04:05.000Z',
    storm: { seconds: 1.5, fullStreams: streams, streams, bytes: 0, cpu: { wallSeconds: 1, serverCpuSeconds: 1, loadgenMaxUtil: 0.1, loadgenCpuSeconds: 1 } },
    drains: {
      attempted: drainsMs ? drains : 1,
      completed: every.length,
      everyReceivedMs: every,
      everyAckedMs: every,
      perStream: summarize(every),
      bytesPerDrain: 1e6,
      serverTrackedMs: [],
      cpu: { wallSeconds: 1, serverCpuSeconds: 1, loadgenMaxUtil: 0.1, loadgenCpuSeconds: 1 },
    },
    deploy: drainsMs ? { pods: 100, completed: 100, everyReceivedMs: Array.from({ length: 100 }, (_, i) => i), seconds: 5, bytes: 0, cpu: undefined } : undefined,
    server: { cpuSeconds: 1, peakRssMb: 300, endRssMb: 300 },
    loadgen: { cpuSeconds: 1, peakRssMb: 100 },
    notes: drainsMs ? [] : ['aborted: no reply to drain within 120000 ms'],
  };
}

function file(runs: RunResult[], label = 'sweep'): ResultFile {
  return {
    label,
    command: 'node .cache/bench-js/bench/run.js --drains 5',
    machine: { cpu: 'Test CPU', cores: 2, memoryGb: 8, node: 'v24.0.0', go: 'go version go1.0 linux/amd64', loadgen: 'go', loadBefore: [0, 0, 0], loadAfter: [0, 0, 0] },
    date: '2030-01-02T03:04:05.000Z',
    runs,
  };
}

const ms = (n: number, value: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => value(i));

describe('the label of a drain figure', () => {
  it.each([
    [1, 'max of 1 drain'],
    [5, 'max of 5 drains'],
    [99, 'max of 99 drains'],
    [100, 'p99'],
    [1000, 'p99'],
  ])('%i drains: %s', (drains, label) => {
    expect(tailLabel(drains, 'drain')).toBe(label);
    expect(
      drainLabel(
        file([
          run(
            'herald',
            1000,
            drains,
            ms(drains, (i) => i + 1),
          ),
        ]),
      ),
    ).toBe(label);
  });

  it.each([
    // drains, the figure the tables show: the largest below 100 drains, the nearest-rank p99 from 100 up
    [5, 5],
    [99, 99],
    [100, 99],
    [200, 198],
  ])('%i drains of 1…N ms: the drain figure is %i ms', (drains, figure) => {
    expect(
      drainTail(
        run(
          'herald',
          1000,
          drains,
          ms(drains, (i) => i + 1),
        ),
      ),
    ).toBe(figure);
  });

  it.each([
    [5, 'Drain → DRAINING at every stream, max of 5 drains (ms)', 'median / max of 5 drains', 'p99 (ms)'],
    [100, 'Drain → DRAINING at every stream, p99 (ms)', 'p50 / p99 / max', 'max of'],
  ])('with %i drains the report and the plot say so', (drains, heading, spread, absent) => {
    const f = file([
      run(
        'herald',
        1000,
        drains,
        ms(drains, (i) => 10 + i),
      ),
      run(
        'peer-linear',
        1000,
        drains,
        ms(drains, (i) => 100 + i),
      ),
    ]);
    const report = renderReport(f, 'bench/results/sweep.json');
    expect(report).toContain(`### ${heading}`);
    expect(report).toContain(`drain → DRAINING at every stream (ms): ${spread}`);
    expect(report.split('\n').filter((l) => l.startsWith('### Drain'))[0]).not.toContain(absent);
    const svg = renderPlot(f, 'bench/results/sweep.json');
    expect(svg).toContain(`${tailLabel(drains, 'drain')} (log scale)`);
  });
});

describe('the 10k drain target', () => {
  it.each([
    // drains at 10k (ms), what the row says, met
    [[150, 160, 170, 180, 190], 'max of 5 drains: 190 ms; 0 of 5 over 200 ms (too few drains for a p99)', true],
    [[150, 160, 170, 180, 210], 'max of 5 drains: 210 ms; 1 of 5 over 200 ms', false],
    [null, 'did not finish', false],
  ])('drains %j: %s', (drainsMs, measured, met) => {
    const verdict = targets(file([run('herald', 10_000, 5, drainsMs)]))[0]!;
    expect(verdict).toMatchObject({ measured, met });
  });
});

describe('the drain plot', () => {
  const series = (points: Array<Array<number | null>>): Series[] => points.map((ys, i) => ({ name: `server ${i}`, points: ys.map((y, k) => ({ x: [1000, 3000, 10_000][k]!, y })) }));

  it.each([
    // per series, the drain at 1k / 3k / 10k streams (null: did not finish); how many × at which x
    [
      'every run finished',
      [
        [10, 20, 30],
        [100, 200, 300],
      ],
      [],
    ],
    [
      'two servers did not finish at 10k',
      [
        [10, 20, 30],
        [100, 200, null],
        [50, 60, null],
      ],
      [10_000, 10_000],
    ],
    [
      'one at 1k, one at 10k',
      [
        [null, 20, 30],
        [100, 200, null],
      ],
      [1000, 10_000],
    ],
  ])('%s', (_name, ys, xs) => {
    const s = series(ys);
    const marks = didNotFinishMarks(s);
    const box = layout(s);
    expect(marks.map((m) => m.x).sort((a, b) => a - b)).toEqual(xs);
    if (marks.length === 0) {
      expect(box.band).toBeUndefined();
      expect(drainPlot(s, { title: 't', subtitle: 's', yLabel: 'y', caption: [] })).not.toContain('did not finish');
      return;
    }
    for (const m of marks) {
      // In the band, above the data area: never where a measured value could be.
      expect(m.cy).toBeGreaterThan(box.band!.top);
      expect(m.cy).toBeLessThan(box.band!.bottom);
      expect(m.cy).toBeLessThan(box.dataTop);
      // The name is written towards the middle, so it stays inside the band.
      expect(m.side).toBe(m.x === 1000 ? 'right' : 'left');
    }
    // No two marks on top of each other.
    for (const a of marks) for (const b of marks) if (a !== b) expect(Math.hypot(a.cx - b.cx, a.cy - b.cy)).toBeGreaterThanOrEqual(12);
    const svg = drainPlot(s, { title: 't', subtitle: 's', yLabel: 'y', caption: [] });
    expect(svg).toContain('>did not finish</text>');
    for (const m of marks) expect(svg).toContain(`>server ${m.series}</text>`);
  });

  it('describes the run it is drawn from in its caption', () => {
    const f = file([run('herald', 1000, 5, [1, 2, 3, 4, 5]), run('herald', 3000, 5, [6, 7, 8, 9, 10])], 'tiny');
    const svg = renderPlot(f, 'bench/results/tiny.json');
    expect(svg).toContain('Run `tiny` of 2030-01-02 03:04 UTC: 5 drains per point, from bench/results/tiny.json.');
    expect(svg).toContain('Test CPU, 2 cores');
  });
});

describe('bench/RESULTS.md and bench/drain-p99.svg', () => {
  const full = JSON.parse(read('bench/results/full.json')) as ResultFile;
  const soakSource = 'bench/results/soak.json';
  const soak = existsSync(new URL(`../../${soakSource}`, import.meta.url)) ? { result: JSON.parse(read(soakSource)) as SoakResult, source: soakSource } : undefined;
  const scopedSource = 'bench/results/scoped.json';
  const scoped = existsSync(new URL(`../../${scopedSource}`, import.meta.url)) ? { result: JSON.parse(read(scopedSource)) as ResultFile, source: scopedSource } : undefined;
  const zonesSource = 'bench/results/zones.json';
  const zones = existsSync(new URL(`../../${zonesSource}`, import.meta.url)) ? { result: JSON.parse(read(zonesSource)) as ResultFile, source: zonesSource } : undefined;

  it('are what report.ts makes of bench/results/full.json (and bench/results/soak.json, scoped.json and zones.json, if there are)', () => {
    expect(read('bench/RESULTS.md')).toBe(renderReport(full, 'bench/results/full.json', soak, scoped, zones));
    expect(read('bench/drain-p99.svg')).toBe(renderPlot(full, 'bench/results/full.json'));
  });

  it('take the memory cap and deadlines from the recorded command', () => {
    expect(limitsOfCommand(full.command)).toMatchObject({ serverRssLimitMb: 4096, stormTimeoutMs: 180_000, drainTimeoutMs: 60_000, workers: 2 });
    expect(limitsOfCommand('node .cache/bench-js/bench/run.js --rss-limit-mb 12288 --workers 3')).toMatchObject({ serverRssLimitMb: 12288, workers: 3 });
    // An appended run's command follows the first one's after '&&'.
    expect(limitsOfCommand('node .cache/bench-js/bench/run.js --workers 3 && node .cache/bench-js/bench/run.js --workers 1 --append')).toMatchObject({ workers: 3 });
  });
});
