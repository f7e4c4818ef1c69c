import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterStatus, NodeRecord, PodRecord } from '../../../src/model/index.js';
import { KubeClusterSource, type KubeClusterSourceOptions } from '../../../src/sources/kube/index.js';
import type { SourceSink } from '../../../src/sources/types.js';
import { createLogger, HeraldMetrics, silentLogger, type Logger } from '../../../src/telemetry/index.js';
import { FakeApiServer } from './fake-apiserver.js';

/** Keeps what a store would keep, plus a log of calls. */
class RecordingSink implements SourceSink {
  readonly pods = new Map<string, PodRecord>();
  readonly nodes = new Map<string, NodeRecord>();
  readonly calls: string[] = [];
  readonly statuses: ClusterStatus[] = [];

  applyPod(pod: PodRecord): void {
    this.calls.push(`apply ${pod.namespace}/${pod.name}`);
    this.pods.set(`${pod.namespace}/${pod.name}`, pod);
  }
  removePod(_cluster: string, key: string): void {
    this.calls.push(`remove ${key}`);
    this.pods.delete(key);
  }
  applyNode(node: NodeRecord): void {
    this.nodes.set(node.name, node);
  }
  removeNode(_cluster: string, name: string): void {
    this.nodes.delete(name);
  }
  replacePods(_cluster: string, pods: PodRecord[]): void {
    this.calls.push(
      `replace ${pods
        .map((p) => `${p.namespace}/${p.name}`)
        .sort()
        .join(',')}`,
    );
    this.pods.clear();
    for (const pod of pods) this.pods.set(`${pod.namespace}/${pod.name}`, pod);
  }
  replaceNodes(_cluster: string, nodes: NodeRecord[]): void {
    this.nodes.clear();
    for (const node of nodes) this.nodes.set(node.name, node);
  }
  setClusterStatus(status: ClusterStatus): void {
    this.statuses.push(status);
  }
}

function pod(name: string, options: { app?: string; ip?: string; ready?: boolean; terminating?: boolean; namespace?: string } = {}) {
  return {
    metadata: {
      namespace: options.namespace ?? 'shop',
      name,
      uid: `uid-${name}`,
      labels: (options.app === undefined ? { other: 'x' } : { app: options.app }) as Record<string, string>,
      creationTimestamp: '2024-05-01T00:00:00Z',
      ...(options.terminating ? { deletionTimestamp: '2024-05-01T00:10:00Z', deletionGracePeriodSeconds: 30 } : {}),
      managedFields: [{ manager: 'kubectl', operation: 'Update' }],
    },
    spec: { nodeName: 'node-a', containers: [{ name: 'main', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: {
      phase: 'Running',
      podIP: options.ip ?? '10.1.0.1',
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
    },
  };
}

const node = { metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/region': 'r1', 'topology.kubernetes.io/zone': 'z1' } } };

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A logger whose lines (messages only) land in `lines`. */
function recordingLogger(lines: string[]): Logger {
  return createLogger({ level: 'info', destination: { write: (line: string) => void lines.push((JSON.parse(line) as { msg: string }).msg) } });
}

function makeSource(
  api: FakeApiServer,
  listTimeoutMs?: number,
  scope: Pick<KubeClusterSourceOptions, 'namespaces' | 'serviceScope'> = {},
  overrides: Partial<KubeClusterSourceOptions> = {},
) {
  const metrics = new HeraldMetrics({ defaultMetrics: false });
  const source = new KubeClusterSource({
    ...scope,
    name: 'east',
    kubeConfig: api.kubeConfig(),
    serviceLabel: 'app',
    portName: 'http',
    metrics,
    logger: silentLogger(),
    clock: () => Date.now(),
    backoff: { initialMs: 20, maxMs: 200 },
    random: () => 0.5,
    listTimeoutMs,
    ...overrides,
  });
  const sink = new RecordingSink();
  cleanups.push(() => source.stop());
  return { source, sink, metrics };
}

async function counter(metrics: HeraldMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return value?.value ?? 0;
}

describe('KubeClusterSource against a fake API server', () => {
  it('carries each pod protocol, and warns once per service about an ignored herald.io/app-protocol', async () => {
    const api = new FakeApiServer();
    await api.listen();
    cleanups.push(() => api.close());
    api.upsert('nodes', node);
    const annotated = (name: string, ip: string, value: string) => {
      const p = pod(name, { app: 'ledger', ip });
      return { ...p, metadata: { ...p.metadata, annotations: { 'herald.io/app-protocol': value } } };
    };
    api.upsert('pods', annotated('ledger-1', '10.1.0.1', 'grpc'));
    api.upsert('pods', annotated('ledger-2', '10.1.0.2', 'quic'));
    api.upsert('pods', annotated('ledger-3', '10.1.0.3', 'quic'));
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (line: string) => void lines.push(line) } });
    const { source, sink } = makeSource(api, undefined, {}, { logger });
    await source.start(sink);
    await until('synced', () => source.status().state === 'synced' && sink.pods.size === 3);
    expect(sink.pods.get('shop/ledger-1')?.protocol).toEqual({ protocol: 'HTTP/2', source: 'annotation', detail: 'grpc' });
    expect(sink.pods.get('shop/ledger-2')?.protocol).toMatchObject({ protocol: 'HTTP/1.1', source: 'default', ignored: expect.stringContaining('"quic"') });
    const warnings = lines.filter((l) => l.includes('herald.io/app-protocol'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, service: 'ledger.shop', kube_cluster: 'east' });
  });

  it('lists with the service-label selector, then follows watch events', async () => {
    const api = new FakeApiServer();
    await api.listen();
    cleanups.push(() => api.close());
    api.upsert('nodes', node);
    api.upsert('pods', pod('cart-1', { app: 'cart', ip: '10.1.0.1' }));
    api.upsert('pods', pod('unlabelled', {}));

    const { source, sink, metrics } = makeSource(api);
    expect(source.status().state).toBe('syncing');
    await source.start(sink);

    await until('synced', () => source.status().state === 'synced');
    expect(sink.calls).toContain('replace shop/cart-1');
    expect(sink.pods.get('shop/cart-1')).toMatchObject({ cluster: 'east', service: 'cart.shop', ip: '10.1.0.1', port: 8080, ready: true, terminating: false });
    expect(sink.nodes.get('node-a')).toEqual({ cluster: 'east', name: 'node-a', region: 'r1', zone: 'z1' });
    expect(source.status()).toMatchObject({ cluster: 'east', everSynced: true, lastError: undefined });
    expect(sink.statuses.at(-1)?.state).toBe('synced');
    // The selector goes on both the list and the watch (the informer only adds it to the watch).
    await until('pod watch open', () => api.openWatches('pods') === 1);
    const podRequests = api.requests.filter((r) => r.kind === 'pods');
    expect(podRequests.some((r) => !r.watch)).toBe(true);
    expect(podRequests.some((r) => r.watch)).toBe(true);
    expect(podRequests.every((r) => r.labelSelector === 'app')).toBe(true);

    sink.calls.length = 0;
    api.upsert('pods', pod('cart-2', { app: 'cart', ip: '10.1.0.2' }));
    await until('cart-2 applied', () => sink.pods.has('shop/cart-2'));
    api.upsert('pods', pod('cart-1', { app: 'cart', ip: '10.1.0.1', terminating: true }));
    await until('cart-1 terminating', () => sink.pods.get('shop/cart-1')?.terminating === true);
    expect(sink.pods.get('shop/cart-1')?.gracePeriodSeconds).toBe(30);
    api.remove('pods', 'shop', 'cart-1');
    await until('cart-1 removed', () => !sink.pods.has('shop/cart-1'));
    expect(sink.calls).toEqual(['apply shop/cart-2', 'apply shop/cart-1', 'remove shop/cart-1']);

    expect(await counter(metrics, 'herald_kube_events_total', { kube_cluster: 'east', kind: 'pod', type: 'add' })).toBe(1);
    expect(await counter(metrics, 'herald_kube_events_total', { kube_cluster: 'east', kind: 'pod', type: 'update' })).toBe(1);
    expect(await counter(metrics, 'herald_kube_events_total', { kube_cluster: 'east', kind: 'pod', type: 'delete' })).toBe(1);
    expect(await counter(metrics, 'herald_kube_cluster_synced', { kube_cluster: 'east' })).toBe(1);
  });

  it('reconciles the store after a 410: a pod that vanished during the gap is removed', async () => {
    const api = new FakeApiServer();
    await api.listen();
    cleanups.push(() => api.close());
    api.upsert('nodes', node);
    api.upsert('pods', pod('cart-1', { app: 'cart', ip: '10.1.0.1' }));
    api.upsert('pods', pod('cart-2', { app: 'cart', ip: '10.1.0.2' }));

    const { source, sink } = makeSource(api);
    await source.start(sink);
    await until('synced', () => source.status().state === 'synced' && sink.pods.size === 2);
    await until('pod watch open', () => api.openWatches('pods') === 1);

    sink.calls.length = 0;
    api.removeSilently('pods', 'shop', 'cart-1');
    api.upsert('pods', pod('cart-3', { app: 'cart', ip: '10.1.0.3' }));
    await until('cart-3 applied', () => sink.pods.has('shop/cart-3'));
    api.removeSilently('pods', 'shop', 'cart-3');
    api.expireWatches();

    await until('relist removes the vanished pods', () => !sink.pods.has('shop/cart-1') && !sink.pods.has('shop/cart-3'));
    expect([...sink.pods.keys()]).toEqual(['shop/cart-2']);
    expect(sink.calls).toEqual(['apply shop/cart-3', 'replace shop/cart-2']);
    expect(source.status().state).toBe('synced');
    await until('watch resumed', () => api.openWatches('pods') === 1);
  });

  it('with namespaces given, lists and watches only their pods, and a relist of both keeps both', async () => {
    const api = new FakeApiServer();
    await api.listen();
    cleanups.push(() => api.close());
    api.upsert('nodes', node);
    api.upsert('pods', pod('cart-1', { app: 'cart', ip: '10.1.0.1' }));
    api.upsert('pods', pod('front-1', { app: 'front', ip: '10.1.0.2', namespace: 'web' }));
    api.upsert('pods', pod('cart-1', { app: 'cart', ip: '10.1.0.3', namespace: 'intruder' }));

    const { source, sink } = makeSource(api, undefined, { namespaces: ['web', 'shop', 'web'] });
    await source.start(sink);
    await until('synced', () => source.status().state === 'synced' && sink.pods.size === 2);
    expect([...sink.pods.keys()].sort()).toEqual(['shop/cart-1', 'web/front-1']);
    expect(sink.pods.get('web/front-1')?.service).toBe('front.web');
    expect(source.status().namespaces).toEqual(['shop', 'web']);
    await until('pod watches open', () => api.openWatches('pods') === 2);
    const podRequests = api.requests.filter((r) => r.kind === 'pods');
    expect(new Set(podRequests.map((r) => r.namespace))).toEqual(new Set(['shop', 'web']));
    expect(podRequests.every((r) => r.labelSelector === 'app')).toBe(true);

    api.upsert('pods', pod('cart-2', { app: 'cart', ip: '10.1.0.4', namespace: 'intruder' }));
    api.upsert('pods', pod('front-2', { app: 'front', ip: '10.1.0.5', namespace: 'web' }));
    await until('front-2 applied', () => sink.pods.has('web/front-2'));
    sink.calls.length = 0;
    api.expireWatches();
    await until('both namespaces relisted', () => sink.calls.filter((c) => c.startsWith('replace')).length === 2);
    await until('watches resumed', () => api.openWatches('pods') === 2);
    // Each namespace's relist replaces the cluster's pods with every watched namespace's pods.
    expect(sink.calls).toEqual(['replace shop/cart-1,web/front-1,web/front-2', 'replace shop/cart-1,web/front-1,web/front-2']);
    expect([...sink.pods.keys()].sort()).toEqual(['shop/cart-1', 'web/front-1', 'web/front-2']);
  });

  it('mesh scope names services by the label value alone', async () => {
    const api = new FakeApiServer();
    await api.listen();
    cleanups.push(() => api.close());
    api.upsert('nodes', node);
    api.upsert('pods', pod('cart-1', { app: 'cart', ip: '10.1.0.1' }));
    const { source, sink } = makeSource(api, undefined, { serviceScope: 'mesh' });
    await source.start(sink);
    await until('synced', () => source.status().state === 'synced' && sink.pods.size === 1);
    expect(sink.pods.get('shop/cart-1')?.service).toBe('cart');
    expect(source.status().namespaces).toBeUndefined();
  });

  it('does not block on a cluster that is down at start, then syncs when it comes up', async () => {
    const port = await freePort();
    const api = new FakeApiServer();
    api.port = port;
    api.upsert('nodes', node);
    api.upsert('pods', pod('cart-1', { app: 'cart' }));

    const lines: string[] = [];
    const { source, sink, metrics } = makeSource(api, undefined, {}, { logger: recordingLogger(lines) });
    await source.start(sink);
    await until('unreachable', () => source.status().state === 'unreachable');
    expect(source.status().lastError).toMatch(/^cluster east: list (pods|nodes) failed: /);
    // Nothing was ever known from it, so the log does not claim to keep anything.
    expect(lines.some((line) => line.endsWith('no endpoints are known from it yet; retrying'))).toBe(true);
    expect(lines.some((line) => line.includes('keeping the last known endpoints'))).toBe(false);
    expect(source.status().everSynced).toBe(false);
    expect(sink.pods.size).toBe(0);
    let restarts = 0;
    for (let i = 0; i < 500 && restarts === 0; i++) {
      restarts = await counter(metrics, 'herald_kube_watch_restarts_total', { kube_cluster: 'east', kind: 'pod' });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(restarts).toBeGreaterThan(0);
    expect(source.status().state).toBe('unreachable');

    await api.listen(port);
    cleanups.push(() => api.close());
    await until('synced', () => source.status().state === 'synced', 15_000);
    expect(sink.pods.has('shop/cart-1')).toBe(true);
    expect(source.status().everSynced).toBe(true);
  });

  it('keeps the endpoints while the API is gone and recovers from the last resourceVersion', async () => {
    const api = new FakeApiServer();
    const port = await api.listen();
    api.upsert('nodes', node);
    api.upsert('pods', pod('cart-1', { app: 'cart' }));
    const lines: string[] = [];
    const { source, sink } = makeSource(api, undefined, {}, { logger: recordingLogger(lines) });
    await source.start(sink);
    await until('synced', () => source.status().state === 'synced');
    await until('pod watch open', () => api.openWatches('pods') === 1);

    await api.close();
    await until('unreachable', () => source.status().state === 'unreachable');
    expect(sink.pods.has('shop/cart-1')).toBe(true);
    expect(lines.some((line) => line.endsWith('keeping the last known endpoints (1 pod)'))).toBe(true);

    const listsBefore = api.requests.filter((r) => r.kind === 'pods' && !r.watch).length;
    api.upsert('pods', pod('cart-2', { app: 'cart', ip: '10.1.0.2' }));
    await api.listen(port);
    cleanups.push(() => api.close());
    await until('recovered', () => source.status().state === 'synced' && sink.pods.has('shop/cart-2'), 15_000);
    expect(source.status().everSynced).toBe(true);
    expect(source.status().lastError).toMatch(/cluster east: watch (pods|nodes) failed/);
    // Resumed by watching from the last resourceVersion, not by listing again.
    expect(api.requests.filter((r) => r.kind === 'pods' && !r.watch).length).toBe(listsBefore);
  });

  it('explains a 403', async () => {
    const api = new FakeApiServer();
    await api.listen();
    cleanups.push(() => api.close());
    api.upsert('nodes', node);
    api.failWith.pods = 403;
    const { source, sink } = makeSource(api);
    await source.start(sink);
    await until('unreachable', () => source.status().state === 'unreachable');
    expect(source.status().lastError).toBe('cluster east: forbidden to list pods: check the ClusterRole (get/list/watch on pods, nodes and servicepolicies.herald.io)');

    delete api.failWith.pods;
    await until('synced once allowed', () => source.status().state === 'synced', 15_000);
  });

  it('gives up on a list that never answers and retries', async () => {
    const api = new FakeApiServer();
    await api.listen();
    cleanups.push(() => api.close());
    api.upsert('nodes', node);
    api.upsert('pods', pod('cart-1', { app: 'cart' }));
    api.hangLists = true;
    const { source, sink } = makeSource(api, 200);
    await source.start(sink);
    await until('unreachable', () => source.status().state === 'unreachable');
    expect(source.status().lastError).toMatch(/^cluster east: list (pods|nodes) failed: no answer within 200 ms$/);

    api.hangLists = false;
    await until('synced', () => source.status().state === 'synced' && sink.pods.has('shop/cart-1'), 15_000);
  });
});

describe('KubeClusterSource: new credentials without a restart', () => {
  /** A kubeconfig of `from` that, like config's FileKubeConfig, follows `file` and reloads as `to`'s. */
  function reloadable(from: FakeApiServer, to: () => FakeApiServer, file: string) {
    return Object.assign(from.kubeConfig(), {
      credentialFiles: () => [file],
      reload: () => Object.assign(to().kubeConfig(), { credentialFiles: () => [file], reload: () => to().kubeConfig() }),
    });
  }

  it('reconnects when its kubeconfig file changes: keeps every namespace served until the new lists, then follows only the new API', async () => {
    const [a, b] = [new FakeApiServer(), new FakeApiServer()];
    for (const api of [a, b]) {
      await api.listen();
      cleanups.push(() => api.close());
      api.upsert('nodes', node);
    }
    a.upsert('pods', pod('cart-1', { app: 'cart', namespace: 'shop', ip: '10.1.0.1' }));
    a.upsert('pods', pod('pay-1', { app: 'pay', namespace: 'bank', ip: '10.1.0.2' }));
    // Meanwhile (seen only through the new credentials): pay-1 gone, pay-2 new.
    b.upsert('pods', pod('cart-1', { app: 'cart', namespace: 'shop', ip: '10.1.0.1' }));
    b.upsert('pods', pod('pay-2', { app: 'pay', namespace: 'bank', ip: '10.1.0.3' }));

    const dir = mkdtempSync(join(tmpdir(), 'herald-reconnect-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, 'v1');
    const { source, sink, metrics } = makeSource(
      a,
      undefined,
      { namespaces: ['shop', 'bank'] },
      { kubeConfig: reloadable(a, () => b, file), credentialWatch: { settleMs: 10, pollIntervalMs: 100 } },
    );
    await source.start(sink);
    await until('synced on a', () => source.status().state === 'synced' && sink.pods.size === 2);
    await until('watches open on a', () => a.openWatches('pods') === 2);
    const before = sink.calls.length;
    const statusesBefore = sink.statuses.length;

    writeFileSync(file, 'v2');
    await until('b listed', () => sink.pods.has('bank/pay-2') && !sink.pods.has('bank/pay-1'));
    await until('watches moved to b', () => b.openWatches('pods') === 2 && a.openWatches('pods') === 0);

    // Every whole replacement during the reconnect still held both namespaces' pods.
    const replaces = sink.calls.slice(before).filter((c) => c.startsWith('replace '));
    expect(replaces.length).toBeGreaterThan(0);
    for (const r of replaces) {
      expect(r, r).toMatch(/shop\/cart-1/);
      expect(r, r).toMatch(/bank\/pay-[12]/);
    }
    // Never back to 'syncing': the cluster stayed served.
    expect(sink.statuses.slice(statusesBefore).map((s) => s.state)).not.toContain('syncing');
    expect(await counter(metrics, 'herald_kube_credential_reloads_total', { kube_cluster: 'east', result: 'reconnected' })).toBe(1);

    // The old API is no longer followed; the new one is.
    a.upsert('pods', pod('ghost', { app: 'cart', namespace: 'shop', ip: '10.1.0.9' }));
    b.upsert('pods', pod('cart-2', { app: 'cart', namespace: 'shop', ip: '10.1.0.4' }));
    await until('cart-2 from b', () => sink.pods.has('shop/cart-2'));
    expect(sink.pods.has('shop/ghost')).toBe(false);
  });

  it('keeps the old credentials when the changed kubeconfig does not load', async () => {
    const api = new FakeApiServer();
    await api.listen();
    cleanups.push(() => api.close());
    api.upsert('nodes', node);
    api.upsert('pods', pod('cart-1', { app: 'cart', ip: '10.1.0.1' }));
    const dir = mkdtempSync(join(tmpdir(), 'herald-reconnect-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, 'v1');
    const kubeConfig = Object.assign(api.kubeConfig(), {
      credentialFiles: () => [file],
      reload: () => {
        throw new Error('not a kubeconfig');
      },
    });
    const { source, sink, metrics } = makeSource(api, undefined, {}, { kubeConfig, credentialWatch: { settleMs: 10 } });
    await source.start(sink);
    await until('synced', () => source.status().state === 'synced');
    writeFileSync(file, 'broken');
    await new Promise((r) => setTimeout(r, 200));
    expect(await counter(metrics, 'herald_kube_credential_reloads_total', { kube_cluster: 'east', result: 'failed' })).toBe(1);
    api.upsert('pods', pod('cart-2', { app: 'cart', ip: '10.1.0.2' }));
    await until('cart-2 over the old watch', () => sink.pods.has('shop/cart-2'));
    expect(source.status().state).toBe('synced');
  });
});
