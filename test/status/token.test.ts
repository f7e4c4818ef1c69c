// `herald status --token-file` against a Herald that trusts no caller by address: the daemon is
// told every peer is remote (tests only have loopback), so CSDS and /debug/clients answer only
// with the token of its --admin-token-file, which is rotated in place while it runs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/app/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { EnvoyLike } from '../conformance/envoy-like.js';
import { synced } from '../conformance/harness.js';
import { ManualSource, makePod } from '../helpers/manual-source.js';
import { run } from './run-cli.js';

function debugClients(port: number, token: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
    http
      .get({ host: '127.0.0.1', port, path: '/debug/clients', headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

describe('herald status with an admin token', () => {
  let dir: string;
  let served: string;
  let daemon: Daemon;
  let envoy: EnvoyLike;
  let target: string[];
  const tokenFile = (name: string, token: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, `${token}\n`);
    return file;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'herald-status-token-'));
    served = tokenFile('served-token', 'first-token');
    const source = new ManualSource('east', { pods: [makePod({ cluster: 'east', name: 'echo-0', service: 'echo', ip: '10.1.0.1' })] });
    daemon = await startDaemon(
      {
        sources: [source],
        initialSyncTimeoutMs: 5_000,
        batchWindowMs: 1,
        xds: { host: '127.0.0.1', port: 0 },
        admin: { host: '127.0.0.1', port: 0 },
        adminToken: { path: served, token: 'first-token' },
        isLocalPeer: () => false,
      },
      { logger: silentLogger(), metrics: new HeraldMetrics({ registry: new Registry(), defaultMetrics: false }) },
    );
    await daemon.ready;
    envoy = new EnvoyLike({ address: `127.0.0.1:${daemon.xdsPort}`, nodeId: 'envoy-1', service: 'frontend' });
    await synced(envoy);
    target = ['status', '--xds-port', String(daemon.xdsPort), '--admin-port', String(daemon.adminPort)];
  });

  afterAll(async () => {
    envoy?.close();
    await daemon?.stop(2_000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('is refused without a token, and says how to get in', async () => {
    const result = await run(target);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/--token-file/);
    expect(result.stderr).toMatch(/port-forward/);
  });

  it('lists the clients with --token-file, connection times included (the admin port took the token too)', async () => {
    const result = await run([...target, '--token-file', tokenFile('mine', 'first-token')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^envoy-1\s+frontend\s+.*\d{4}-\d\d-\d\dT\S+ \(\d+s\)/m);
  });

  it('reads HERALD_TOKEN_FILE', async () => {
    const result = await run(target, { env: { HERALD_TOKEN_FILE: tokenFile('from-env', 'first-token') } });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^envoy-1\s/m);
  });

  it('refuses a missing token file before calling anything', async () => {
    const result = await run([...target, '--token-file', path.join(dir, 'absent')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--token-file: cannot read/);
  });

  it('follows a rotation of the served token file: the old token is refused, the new one accepted', async () => {
    const old = tokenFile('old', 'first-token');
    const fresh = tokenFile('fresh', 'second-token');
    writeFileSync(served, 'second-token\n');
    // The file is watched: the new token applies within moments (bounded poll of the endpoint).
    for (let i = 0; i < 200 && (await debugClients(daemon.adminPort!, 'second-token')) !== 200; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await debugClients(daemon.adminPort!, 'second-token')).toBe(200);
    expect(await debugClients(daemon.adminPort!, 'first-token')).toBe(403);
    expect(await debugClients(daemon.adminPort!, undefined)).toBe(401);

    const refused = await run([...target, '--token-file', old]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused the token of --token-file/);
    const accepted = await run([...target, '--token-file', fresh]);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toMatch(/^envoy-1\s/m);
  });
});
