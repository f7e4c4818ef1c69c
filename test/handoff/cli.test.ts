import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvoyProtos } from '../../src/resources/index.js';
import { AdsClient } from '../../src/xdsclient/index.js';
import { FakeApiServer } from '../sources/kube/fake-apiserver.js';

// The real CLI process, SIGTERMed as Kubernetes does it (npm test builds dist/ first).
const main = path.resolve('dist/main.js');

interface Herald {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>;
}

const children: ChildProcessWithoutNullStreams[] = [];

function spawnHerald(args: string[]): Herald {
  const child = spawn(process.execPath, [main, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, KUBERNETES_SERVICE_HOST: '' } });
  children.push(child);
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (out += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, atMs: performance.now() })),
  );
  return { child, output: () => out, exited };
}

async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`not within ${timeoutMs} ms: ${what}`);
}

async function status(url: string): Promise<number> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.status;
}

/** Bound on how long after SIGTERM the process may take: the grace plus process start-up noise. */
function withinBound(exit: { atMs: number }, signalledAtMs: number, graceMs: number): boolean {
  return exit.atMs - signalledAtMs < graceMs + 3_000;
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('herald process on SIGTERM', () => {
  it('demo exits 0 within its shutdown bound', async () => {
    const herald = spawnHerald(['demo', '--xds-port', '0', '--admin-port', '0', '--xds-host', '127.0.0.1', '--admin-host', '127.0.0.1', '--envoys', '2']);
    const admin = await eventually(() => /admin http:\/\/127\.0\.0\.1:(\d+)\//.exec(herald.output())?.[1], 20_000, `demo banner; output: ${herald.output()}`);
    await eventually(async () => ((await status(`http://127.0.0.1:${admin}/readyz`)) === 200 ? true : undefined), 10_000, 'demo ready');
    const signalledAtMs = performance.now();
    herald.child.kill('SIGTERM');
    const exit = await herald.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    // The demo's own grace is 2 s.
    expect(withinBound(exit, signalledAtMs, 2_000)).toBe(true);
  });

  describe('serve', () => {
    let dir: string;
    let kubeconfig: string;
    let api: FakeApiServer;
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-handoff-'));
      kubeconfig = path.join(dir, 'east.kubeconfig');
      // An empty cluster that syncs: xDS opens only once a cluster has synced.
      api = new FakeApiServer();
      await api.listen();
      fs.writeFileSync(kubeconfig, api.kubeConfig().exportConfig());
    });
    afterAll(async () => {
      await api.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('fails /readyz first, then ends xDS streams, then exits 0 within --shutdown-grace', async () => {
      const graceMs = 4_000;
      const herald = spawnHerald([
        'serve',
        '--cluster',
        `east=${kubeconfig}`,
        '--xds-port',
        '0',
        '--admin-port',
        '0',
        '--xds-host',
        '127.0.0.1',
        '--admin-host',
        '127.0.0.1',
        '--initial-sync-timeout',
        '300ms',
        '--shutdown-grace',
        '4s',
        '--handoff-delay',
        '1s',
        '--log-level',
        'info',
      ]);
      const started = await eventually(
        () => {
          const line = herald
            .output()
            .split('\n')
            .find((l) => l.includes('"herald started"'));
          return line ? (JSON.parse(line) as { xdsPort: number; adminPort: number }) : undefined;
        },
        20_000,
        `serve start; output: ${herald.output()}`,
      );
      const readyz = `http://127.0.0.1:${started.adminPort}/readyz`;
      await eventually(async () => ((await status(readyz)) === 200 ? true : undefined), 10_000, 'serve ready');

      const ends: { code: number; atMs: number }[] = [];
      const sidecar = new AdsClient({ target: `127.0.0.1:${started.xdsPort}`, nodeId: 'sidecar', protos: loadEnvoyProtos(), backoff: { baseMs: 5_000, capMs: 5_000 } });
      sidecar.on('streamEnd', (_target, code) => ends.push({ code, atMs: performance.now() }));
      try {
        sidecar.start();
        // The empty CDS answer proves the stream is established and served.
        await sidecar.waitFor((c) => c.ackedVersion('type.googleapis.com/envoy.config.cluster.v3.Cluster') !== '', 10_000);

        const signalledAtMs = performance.now();
        herald.child.kill('SIGTERM');
        const unreadyAtMs = await eventually(async () => ((await status(readyz)) === 503 ? performance.now() : undefined), 2_000, '/readyz 503');
        expect(ends).toHaveLength(0);
        await eventually(() => (ends.length > 0 ? true : undefined), graceMs, 'stream ended by the server');
        expect(ends[0]!.atMs).toBeGreaterThan(unreadyAtMs);
        const exit = await herald.exited;
        expect(exit).toMatchObject({ code: 0, signal: null });
        expect(withinBound(exit, signalledAtMs, graceMs)).toBe(true);
        expect(herald.output()).toMatch(/hand-off: xDS streams ended/);
      } finally {
        await sidecar.close();
      }
    });
  });
});
