import { describe, expect, it } from 'vitest';
import { formatAge, formatClient, formatJson, formatSince, formatTable, formatTypeCell, formatView, type StatusRow, type TypeSummary } from '../../src/status/index.js';

// null, not undefined, for "no version": undefined would pick the default.
const t = (state: TypeSummary['state'], behind = 0, ackedVersion: string | null = '7'): TypeSummary => ({
  state,
  behind,
  resources: 1,
  ackedVersion: ackedVersion ?? undefined,
  lastNack: undefined,
});

describe('formatTypeCell', () => {
  it.each([
    [t('SYNCED'), 'SYNCED v7'],
    [t('SYNCED', 0, null), 'SYNCED'],
    [t('STALE', 3, '6'), 'STALE(3 behind) v6'],
    [t('NACKED', 1, '6'), 'NACKED(1) v6'],
    [t('NACKED', 0, null), 'NACKED'],
    [t('NOT SENT', 0, '9'), 'NOT SENT'],
    [t('SYNCED', 0, '0123456789abcdef0123'), 'SYNCED v0123456789abcde…'],
  ])('%j → %s', (summary, expected) => {
    expect(formatTypeCell(summary)).toBe(expected);
  });
});

describe('formatAge / formatSince', () => {
  it.each([
    [0, '0s'],
    [999, '0s'],
    [45_000, '45s'],
    [192_000, '3m12s'],
    [7_500_000, '2h05m'],
    [273_600_000, '3d04h'],
    [-5_000, '0s'],
  ])('%d ms → %s', (ms, expected) => {
    expect(formatAge(ms)).toBe(expected);
  });
  it('prints UTC time to the second and the age, or a dash', () => {
    const at = Date.UTC(2026, 10, 22, 2, 51, 36, 789);
    expect(formatSince(at, at + 61_000)).toBe('2026-11-22T02:51:36Z (1m01s)');
    expect(formatSince(undefined, at)).toBe('-');
  });
});

function row(nodeId: string, overrides: Partial<StatusRow> = {}): StatusRow {
  return {
    nodeId,
    service: 'echo',
    namespace: undefined,
    kubeCluster: undefined,
    zone: undefined,
    client: undefined,
    envoySupport: undefined,
    dependencies: undefined,
    perspective: undefined,
    connectedAtMs: undefined,
    types: { CDS: t('SYNCED'), EDS: t('SYNCED'), LDS: t('NOT SENT'), RDS: t('NOT SENT') },
    lastNack: undefined,
    ...overrides,
  };
}

describe('formatTable', () => {
  const now = Date.UTC(2026, 0, 1, 0, 10, 0);

  it('says so when nobody is connected', () => {
    expect(formatTable([], now)).toBe('No xDS clients connected.\n');
  });

  it('aligns columns and shows every field of a line', () => {
    const text = formatTable(
      [
        row('envoy-a', {
          namespace: 'shop',
          kubeCluster: 'east',
          zone: 'r/z',
          client: { userAgent: 'envoy', version: '1.33.2' },
          envoySupport: 'ok',
          dependencies: ['cart.shop', 'ledger.pay'],
          perspective: { ignoresOverprovisioning: false, replicaView: false, refused: false },
          connectedAtMs: now - 5_000,
        }),
        row('envoy-long-name', {
          types: { CDS: t('SYNCED'), EDS: t('NACKED', 1, '6'), LDS: t('NOT SENT'), RDS: t('NOT SENT') },
          lastNack: { type: 'EDS', message: 'endpoint\n  invalid', version: '7', atMs: 1 },
        }),
      ],
      now,
    );
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^NODE {2,}SERVICE {2,}NAMESPACE {2,}KUBE CLUSTER {2,}ZONE {2,}VIEW {2,}CLIENT {2,}SCOPE {2,}CONNECTED SINCE {2,}CDS {2,}EDS {2,}LDS {2,}RDS {2,}LAST NACK$/);
    expect(lines[1]).toMatch(
      /^envoy-a {2,}echo {2,}shop {2,}east {2,}r\/z {2,}own {2,}envoy\/1\.33\.2 {2,}2 services {2,}2026-01-01T00:09:55Z \(5s\) {2,}SYNCED v7 {2,}SYNCED v7 {2,}NOT SENT {2,}NOT SENT {2,}-$/,
    );
    expect(lines[2]).toContain('NACKED(1) v6');
    expect(lines[2]).toMatch(/EDS: endpoint invalid$/);
    // Every column starts at the same offset on every line.
    const start = (line: string, cell: string) => line.indexOf(cell);
    expect(start(lines[1]!, 'echo')).toBe(start(lines[0]!, 'SERVICE'));
    expect(start(lines[2]!, 'echo')).toBe(start(lines[0]!, 'SERVICE'));
    expect(start(lines[2]!, 'EDS: ')).toBe(start(lines[0]!, 'LAST NACK'));
    expect(start(lines[1]!, 'envoy/1.33.2')).toBe(start(lines[0]!, 'CLIENT'));
    expect(start(lines[1]!, '2 services')).toBe(start(lines[0]!, 'SCOPE'));
    expect(lines[2]!.slice(start(lines[0]!, 'SCOPE')).startsWith('all ')).toBe(true);
    for (const line of lines) expect(line).toBe(line.trimEnd());
  });

  it('clips long NACK messages to one bounded line', () => {
    const text = formatTable([row('n', { lastNack: { type: 'CDS', message: 'x'.repeat(500), version: undefined, atMs: undefined } })], now);
    const last = text.trimEnd().split('\n')[1]!;
    expect(last).toMatch(/CDS: x+…$/);
    expect(last.length).toBeLessThan(250);
  });

  it('marks a client without node id', () => {
    expect(formatTable([row('')], now)).toContain('(no node id)');
  });
});

describe('formatClient', () => {
  it.each([
    ['an Envoy at or above the minimum', { userAgent: 'envoy', version: '1.33.2' }, 'ok', 'envoy/1.33.2'],
    ['an old Envoy, marked', { userAgent: 'envoy', version: '1.28.7' }, 'old', 'envoy/1.28.7 (old)'],
    ['an Envoy without a version', { userAgent: 'envoy', version: '' }, 'unknown', 'envoy/?'],
    ['a gRPC client', { userAgent: 'gRPC Go', version: '1.70.0' }, undefined, 'gRPC Go/1.70.0'],
    ['a version but no name', { userAgent: '', version: '1.2.3' }, undefined, '?/1.2.3'],
    ['a node that says neither', { userAgent: '', version: '' }, undefined, '-'],
    ['no node at all', undefined, undefined, '-'],
    ['long strings, clipped to keep the column narrow', { userAgent: 'u'.repeat(100), version: '9'.repeat(100) }, undefined, `${'u'.repeat(27)}…/${'9'.repeat(15)}…`],
  ] as const)('%s', (_label, client, envoySupport, expected) => {
    expect(formatClient(row('n', { client, envoySupport }))).toBe(expected);
  });
});

describe('formatJson', () => {
  it('keeps every row field and adds ISO times', () => {
    const at = Date.UTC(2026, 0, 1);
    const parsed = JSON.parse(formatJson([row('n', { connectedAtMs: at, kubeCluster: 'east' }), row('m')])) as Array<Record<string, unknown>>;
    expect(parsed[0]).toMatchObject({ nodeId: 'n', kubeCluster: 'east', connectedAtMs: at, connectedAt: '2026-01-01T00:00:00.000Z' });
    expect(parsed[0]!['types']).toMatchObject({ CDS: { state: 'SYNCED', ackedVersion: '7' }, LDS: { state: 'NOT SENT' } });
    expect(parsed[1]!['connectedAt']).toBeNull();
  });
});

describe('formatView', () => {
  it.each<{ perspective: StatusRow['perspective']; want: string }>([
    { perspective: undefined, want: '-' },
    { perspective: { ignoresOverprovisioning: false, replicaView: false, refused: false }, want: 'own' },
    { perspective: { ignoresOverprovisioning: true, replicaView: false, refused: false }, want: 'own+spill' },
    { perspective: { ignoresOverprovisioning: false, replicaView: true, refused: false }, want: 'replica' },
    { perspective: { ignoresOverprovisioning: true, replicaView: true, refused: true }, want: 'refused' },
  ])('$want', ({ perspective, want }) => {
    expect(formatView(row('n', { perspective }))).toBe(want);
  });
});
