import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../bench/report.js';
import type { ResultFile } from '../../bench/run.js';
import { parseDrainLine, type SoakResult } from '../../bench/soak.js';
import { parseMetrics } from '../../bench/soak-probes.js';

describe('what the soak reads from the daemon', () => {
  it.each([
    ['DRAINING west/shop/frontend-00001 10.2.0.1:8080 (frontend.shop): ACKed by 4/6 clients in 18 ms', { endpoint: '10.2.0.1:8080', kind: 'complete', ms: 18 }],
    ['DRAINING east/browse/search-0000f 10.1.0.15:8080 (search.browse): only 3/4 clients ACKed within the timeout', { endpoint: '10.1.0.15:8080', kind: 'timedOut', ms: undefined }],
    ['DRAINING east/browse/search-0000g 10.1.0.16:8080 (search.browse): no xDS client subscribed', { endpoint: '10.1.0.16:8080', kind: 'noClient', ms: undefined }],
    ['  xDS   127.0.0.1:18000', undefined],
  ])('the demo line %j', (line, drain) => {
    expect(parseDrainLine(line)).toEqual(drain);
  });

  it('reads the named families of /metrics, by label set', () => {
    const text = [
      '# HELP herald_xds_limit_exceeded_total xDS streams ended for crossing a limit, by limit',
      'herald_xds_limit_exceeded_total{limit="max-names-per-stream"} 30',
      'herald_xds_limit_exceeded_total{limit="request-read-timeout"} 2',
      'herald_nodejs_eventloop_lag_p99_seconds 0.0125',
      'herald_other_total 7',
    ].join('\n');
    expect(parseMetrics(text, ['herald_xds_limit_exceeded_total', 'herald_nodejs_eventloop_lag_p99_seconds', 'herald_xds_connections_refused_total'])).toEqual({
      herald_xds_limit_exceeded_total: { 'limit="max-names-per-stream"': 30, 'limit="request-read-timeout"': 2 },
      herald_nodejs_eventloop_lag_p99_seconds: { '': 0.0125 },
      herald_xds_connections_refused_total: {},
    });
  });
});

describe('the Soak section of RESULTS.md', () => {
  const full = JSON.parse(readFileSync(new URL('../../bench/results/full.json', import.meta.url), 'utf8')) as ResultFile;
  const soak = (failures: string[]): SoakResult => ({
    label: 'soak',
    date: '2030-01-02T03:04:05.000Z',
    command: 'node .cache/bench-js/bench/soak.js',
    machine: { cpu: 'Test CPU', cores: 2, memoryGb: 8, node: 'v24.0.0', loadBefore: [1, 1, 1], loadAfter: [2, 2, 2] },
    daemon: { command: 'node dist/main.js demo --duration 390', died: null, exitAfterStop: 0, cpuSeconds: 12.5, log: {} },
    minutes: 5,
    attackSeconds: 300,
    attacks: [
      {
        kind: 'names',
        what: 'Delta streams subscribing names',
        from: '127.0.0.3',
        pace: 'a stream every 2 s',
        attempts: 150,
        unit: 'streams',
        figures: { 'names subscribed': 4_500_000 },
        outcomes: { 'RESOURCE_EXHAUSTED (--max-names-per-stream)': 150 },
        endedAfterMs: { min: 1000, max: 1500 },
      },
    ],
    drains: { done: 300, complete: 300, timedOut: 0, noClient: 0, seenByWatcher: 300, missed: [], propagationMs: { n: 300, p50: 17, p99: 120, max: 150 } },
    watcher: { streams: 1, breaks: [], drainingUpdates: 1200, nacks: 0 },
    rss: { startMb: 160, peakMb: 340, endMb: 330, hwmMb: 350 },
    healthz: { probes: 300, failures: [], maxMs: 20, p99Ms: 10 },
    eventLoop: { p99MaxSeconds: 0.05, lagMaxSeconds: 0.08 },
    metrics: { herald_xds_limit_exceeded_total: { 'limit="max-names-per-stream"': 150 } },
    failures,
  });

  it('comes last, with the verdict, a row per attacker and the limit metrics', () => {
    const report = renderReport(full, 'bench/results/full.json', { result: soak([]), source: 'bench/results/soak.json' });
    const section = report.slice(report.indexOf('## Soak'));
    expect(report.indexOf('## Soak')).toBeGreaterThan(report.indexOf('## Limits'));
    expect(section).toContain('generated from `bench/results/soak.json`');
    expect(section).toContain('**Verdict:** passed');
    expect(section).toContain(
      '| names: Delta streams subscribing names | 127.0.0.3 | a stream every 2 s | 150 streams, 4,500,000 names subscribed | 150 RESOURCE_EXHAUSTED (--max-names-per-stream) | 1,000 – 1,500 |',
    );
    expect(section).toContain('| herald_xds_limit_exceeded_total | `limit="max-names-per-stream"` | 150 |');
    expect(renderReport(full, 'bench/results/full.json')).not.toContain('## Soak');
  });

  it('says why a soak failed', () => {
    const report = renderReport(full, 'bench/results/full.json', { result: soak(['the daemon exited (code 1, signal null) 42 s after it started']), source: 'bench/results/soak.json' });
    expect(report).toContain('**Verdict:** **failed**: the daemon exited (code 1, signal null) 42 s after it started.');
  });
});
