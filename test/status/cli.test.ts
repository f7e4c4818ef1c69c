import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CDS_URL, EDS_URL, eventually } from '../conformance/envoy-like.js';
import { startHerald, synced, type Herald } from '../conformance/harness.js';
import { closedLoopbackPort } from '../helpers/ports.js';
import { run } from './run-cli.js';

describe('herald status against a running Herald', () => {
  let herald: Herald;
  const nackMessage = 'rejected by envoy-nacker: bad endpoint 10.1.0.1';

  beforeAll(async () => {
    herald = await startHerald();
    const good = herald.envoy({ nodeId: 'envoy-good', service: 'frontend.shop', locality: { region: 'eu', zone: 'eu-a' }, metadata: { kube_cluster: 'east' }, envoyVersion: [1, 33, 2] });
    const rejected = new Set<string>();
    const nacker = herald.envoy({
      nodeId: 'envoy-nacker',
      service: 'billing',
      envoyVersion: [1, 28, 7],
      nack: (r) => {
        if (r.typeUrl !== EDS_URL || rejected.has(r.typeUrl)) return undefined;
        rejected.add(r.typeUrl);
        return nackMessage;
      },
    });
    const delta = herald.deltaEnvoy('envoy-delta');
    await synced(good);
    await eventually(() => delta.assignments.has('echo'), 'the Delta client synced');
    await eventually(() => nacker.responsesOf(EDS_URL).some((r) => r.answer === 'nack') && nacker.responsesOf(CDS_URL).length > 0, 'the NACK');
    // Herald has handled the NACK once its counter shows it (bounded poll).
    for (let i = 0; i < 500 && (await herald.metric('herald_xds_nacks_total', { type: 'endpoint' })) < 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  });

  afterAll(async () => {
    await herald?.stop();
  });

  it('prints one line per client with type states, connection time and the NACK message', async () => {
    const result = await run(['status', '--xds-port', String(herald.daemon.xdsPort), '--admin-port', String(herald.daemon.adminPort)]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NODE\s+SERVICE\s+NAMESPACE\s+KUBE CLUSTER\s+ZONE\s+VIEW\s+CLIENT\s+SCOPE\s+CONNECTED SINCE\s+CDS\s+EDS\s+LDS\s+RDS\s+LAST NACK$/);
    expect(lines).toHaveLength(4);
    // Delta clients show up the same way.
    expect(lines.find((line) => line.startsWith('envoy-delta'))).toMatch(
      /^envoy-delta\s+conformance\s+-\s+-\s+-\s+replica\s+envoy-like-delta\/\?\s+all\s+\S+ \(\d+s\)\s+SYNCED\S*( v\S+)?\s+SYNCED/,
    );
    const good = lines.find((line) => line.startsWith('envoy-good'))!;
    const nacker = lines.find((line) => line.startsWith('envoy-nacker'))!;
    expect(good).toMatch(
      /^envoy-good\s+frontend\.shop\s+shop\s+east\s+eu\/eu-a\s+own\s+envoy\/1\.33\.2\s+all\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\d+s\)\s+SYNCED v\S+\s+SYNCED v\S+\s+NOT SENT\s+NOT SENT\s+-$/,
    );
    expect(nacker).toMatch(/^envoy-nacker\s+billing\s+-\s+-\s+-\s+replica\s+envoy\/1\.28\.7 \(old\)\s+all\s+\d{4}-\S+ \(\d+s\)\s+SYNCED v\S+\s+NACKED\S*/);
    expect(nacker.endsWith(`EDS: ${nackMessage}`)).toBe(true);
  });

  it('answers from CSDS alone with --admin-port 0, and as JSON', async () => {
    const result = await run(['status', '--address', `127.0.0.1:${herald.daemon.xdsPort}`, '--admin-port', '0', '--output', 'json']);
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as Array<{
      nodeId: string;
      connectedAt: string | null;
      client?: { userAgent: string; version: string };
      envoySupport?: string;
      types: Record<string, { state: string }>;
      lastNack?: { message: string };
    }>;
    expect(rows.map((r) => r.nodeId)).toEqual(['envoy-delta', 'envoy-good', 'envoy-nacker']);
    expect(rows.map((r) => [r.client, r.envoySupport])).toEqual([
      [{ userAgent: 'envoy-like-delta', version: '' }, undefined],
      [{ userAgent: 'envoy', version: '1.33.2' }, 'ok'],
      [{ userAgent: 'envoy', version: '1.28.7' }, 'old'],
    ]);
    expect(rows.map((r) => r.connectedAt)).toEqual([null, null, null]);
    rows.shift();
    expect(rows[0]!.types['EDS']!.state).toBe('SYNCED');
    expect(rows[1]!.types['EDS']!.state).toBe('NACKED');
    expect(rows[1]!.lastNack!.message).toBe(nackMessage);
  });

  it('shows the NACKed client catching up once a change is accepted', async () => {
    herald.source.update('default/echo-0', { terminating: true });
    const port = String(herald.daemon.xdsPort);
    let last = '';
    // Polls the CLI itself, a bounded number of times.
    for (let attempt = 0; attempt < 20; attempt++) {
      const result = await run(['status', '--xds-port', port, '--admin-port', '0']);
      last = result.stdout;
      const nacker = last.split('\n').find((line) => line.startsWith('envoy-nacker')) ?? '';
      // The NACK stays visible as history while EDS is SYNCED again.
      if (/\s+SYNCED v\S+\s+SYNCED v\S+\s+NOT SENT/.test(nacker)) break;
    }
    const nacker = last.split('\n').find((line) => line.startsWith('envoy-nacker')) ?? '';
    expect(nacker).toMatch(/SYNCED v\S+\s+SYNCED v\S+\s+NOT SENT/);
  });
});

describe('herald status without a Herald', () => {
  it('names the address and exits non-zero', async () => {
    const port = await closedLoopbackPort();
    const result = await run(['status', '--xds-port', String(port), '--admin-port', '0', '--timeout', '3s']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`herald status: error: cannot reach Herald's xDS port at 127.0.0.1:${port}`);
  });

  it('refuses a malformed address as a usage error', async () => {
    const result = await run(['status', '--address', 'no-port-here']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--address');
  });
});
