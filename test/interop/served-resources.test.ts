// What Herald actually serves — captured off the wire from a running daemon while pods come,
// drain and go, on a SotW and a Delta stream side by side — passes the protoc-gen-validate rules
// Envoy enforces on ingest.
import type protobuf from 'protobufjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/app/index.js';
import { TYPE_URLS } from '../../src/model/index.js';
import { loadEnvoyProtos, ResourceEncoder } from '../../src/resources/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { ManualSource, makePod } from '../helpers/manual-source.js';
import { RawAdsClient, type RawResponse } from './raw-ads.js';
import { RawDeltaClient, type RawDeltaResponse } from './raw-delta.js';
import { interopSuite } from './suite.js';
import { allViolations, runEnvoyValidate } from './tools.js';

interopSuite('envoy-validate: resources served by a running Herald', (tools) => {
  let root: protobuf.Root;
  let encoder: ResourceEncoder;
  let daemon: Daemon;
  let kubeA: ManualSource;
  let kubeB: ManualSource;
  let client: RawAdsClient;
  let delta: RawDeltaClient;

  // These addresses are only data in EDS: nothing ever connects to them.
  // payments is a gRPC service (herald.io/app-protocol: grpc): its cluster carries HTTP/2 options.
  const pod = (cluster: string, name: string, service: string, ip: string, nodeName: string, ready = true) =>
    makePod({ cluster, name, service, ip, port: 8080, nodeName, ready, ...(service === 'payments' ? { protocol: { protocol: 'HTTP/2', source: 'annotation', detail: 'grpc' } } : {}) });

  beforeAll(async () => {
    root = loadEnvoyProtos();
    encoder = new ResourceEncoder(root);
    kubeA = new ManualSource('kube-a', {
      pods: [
        pod('kube-a', 'echo-a0', 'echo', '10.0.0.10', 'a-node-1'),
        pod('kube-a', 'echo-a1', 'echo', '10.0.0.11', 'a-node-1'),
        pod('kube-a', 'echo-a2', 'echo', '10.0.0.12', 'a-node-2', false),
        pod('kube-a', 'echo-a6', 'echo', 'fd00::6', 'a-node-2'),
        pod('kube-a', 'pay-a0', 'payments', '10.0.0.20', 'a-node-2'),
      ],
      nodes: [
        { cluster: 'kube-a', name: 'a-node-1', region: 'r1', zone: 'z1' },
        { cluster: 'kube-a', name: 'a-node-2', region: 'r1', zone: 'z2' },
      ],
    });
    kubeB = new ManualSource('kube-b', {
      pods: [
        pod('kube-b', 'echo-b0', 'echo', '10.1.0.10', 'b-node-1'),
        pod('kube-b', 'echo-b1', 'echo', '10.1.0.11', 'b-bare'),
        pod('kube-b', 'pay-b0', 'payments', '10.1.0.20', 'b-node-1'),
      ],
      // b-bare has no topology labels: its endpoints get an empty locality.
      nodes: [
        { cluster: 'kube-b', name: 'b-node-1', region: 'r2', zone: 'z3' },
        { cluster: 'kube-b', name: 'b-bare', region: undefined, zone: undefined },
      ],
    });
    daemon = await startDaemon(
      {
        sources: [kubeA, kubeB],
        localCluster: 'kube-a',
        includeNotReady: true,
        clusterOptions: { healthCheck: { path: '/healthz', intervalMs: 2_000, timeoutMs: 500, unhealthyThreshold: 2, healthyThreshold: 1 } },
        initialSyncTimeoutMs: 5_000,
        xds: { host: '127.0.0.1', port: 0 },
        admin: undefined,
      },
      { logger: silentLogger(), metrics: new HeraldMetrics({ defaultMetrics: false }) },
    );
    await daemon.ready;
    client = new RawAdsClient(root, `127.0.0.1:${daemon.xdsPort}`, 'interop-validate');
    delta = new RawDeltaClient(root, `127.0.0.1:${daemon.xdsPort}`, 'interop-validate-delta');
  });

  afterAll(async () => {
    client?.close();
    delta?.close();
    await daemon?.stop(1_000);
  });

  const decoded = (r: RawResponse) => r.resources.map((bytes) => encoder.decodeAny(bytes));
  const namesIn = (responses: RawResponse[], typeUrl: string) => new Set(responses.filter((r) => r.type_url === typeUrl).flatMap((r) => decoded(r).map((d) => d.name)));
  const healthsIn = (responses: RawResponse[]) =>
    responses
      .filter((r) => r.type_url === TYPE_URLS.endpoint)
      .flatMap((r) => decoded(r))
      .flatMap((d) => (d.message.endpoints as { lb_endpoints?: { health_status?: string }[] }[] | undefined) ?? [])
      .flatMap((locality) => (locality.lb_endpoints ?? []).map((e) => e.health_status ?? 'UNKNOWN'));

  const deltaDecoded = (r: RawDeltaResponse) => r.resources.map((res) => ({ res, ...encoder.decodeAny(res.any) }));
  const deltaNamesIn = (responses: RawDeltaResponse[], typeUrl: string) => new Set(responses.filter((r) => r.type_url === typeUrl).flatMap((r) => r.resources.map((res) => res.name)));
  const deltaHealthsIn = (responses: RawDeltaResponse[]) =>
    responses
      .filter((r) => r.type_url === TYPE_URLS.endpoint)
      .flatMap((r) => deltaDecoded(r))
      .flatMap((d) => (d.message.endpoints as { lb_endpoints?: { health_status?: string }[] }[] | undefined) ?? [])
      .flatMap((locality) => (locality.lb_endpoints ?? []).map((e) => e.health_status ?? 'UNKNOWN'));

  it('serves every type with zero violations, through drains and removals', async () => {
    const services = ['echo', 'payments'];
    const named = [TYPE_URLS.endpoint, TYPE_URLS.listener, TYPE_URLS.route];
    client.subscribe(TYPE_URLS.cluster, []);
    delta.subscribe(TYPE_URLS.cluster, []);
    await client.waitFor((rs) => services.every((s) => namesIn(rs, TYPE_URLS.cluster).has(s)), 10_000, 'CDS with both services');
    await delta.waitFor((rs) => services.every((s) => deltaNamesIn(rs, TYPE_URLS.cluster).has(s)), 10_000, 'Delta CDS with both services');
    const served = client.responses.filter((r) => r.type_url === TYPE_URLS.cluster).flatMap((r) => decoded(r));
    const protocolOptions = (name: string) => served.find((d) => d.name === name)?.message.typed_extension_protocol_options;
    expect(protocolOptions('payments')).toBeDefined();
    expect(protocolOptions('echo')).toBeUndefined();
    for (const typeUrl of named) {
      client.subscribe(typeUrl, services);
      delta.subscribe(typeUrl, services);
    }
    await client.waitFor((rs) => named.every((t) => services.every((s) => namesIn(rs, t).has(s))), 10_000, 'EDS, LDS and RDS for both services');
    await delta.waitFor((rs) => named.every((t) => services.every((s) => deltaNamesIn(rs, t).has(s))), 10_000, 'Delta EDS, LDS and RDS for both services');

    kubeA.update('default/echo-a1', { terminating: true, gracePeriodSeconds: 30 });
    await client.waitFor((rs) => healthsIn(rs).includes('DRAINING'), 10_000, 'a DRAINING endpoint');
    await delta.waitFor((rs) => deltaHealthsIn(rs).includes('DRAINING'), 10_000, 'a DRAINING endpoint over Delta');

    // The last payments pods go: whatever Herald serves for that (an empty assignment, a CDS
    // without the cluster) is captured too.
    const before = client.responses.length;
    const deltaBefore = delta.responses.length;
    kubeA.remove('default/pay-a0');
    kubeB.remove('default/pay-b0');
    await client.waitFor(
      (rs) =>
        rs
          .slice(before)
          .some(
            (r) =>
              (r.type_url === TYPE_URLS.cluster && !decoded(r).some((d) => d.name === 'payments')) ||
              (r.type_url === TYPE_URLS.endpoint && decoded(r).some((d) => d.name === 'payments' && ((d.message.endpoints as unknown[] | undefined) ?? []).length === 0)),
          ),
      10_000,
      'payments emptied or removed',
    );
    await delta.waitFor(
      (rs) =>
        rs
          .slice(deltaBefore)
          .some(
            (r) =>
              (r.type_url === TYPE_URLS.cluster && r.removed.includes('payments')) ||
              (r.type_url === TYPE_URLS.endpoint && deltaDecoded(r).some((d) => d.name === 'payments' && ((d.message.endpoints as unknown[] | undefined) ?? []).length === 0)),
          ),
      10_000,
      'payments emptied or removed over Delta',
    );

    const sotwItems = client.responses.flatMap((r, i) => r.resources.map((any, j) => ({ source: `response ${i} (${r.type_url}) resource ${j}`, any })));
    const deltaItems = delta.responses.flatMap((r, i) => r.resources.map((res, j) => ({ source: `delta response ${i} (${r.type_url}) resource ${j} "${res.name}"`, any: res.any })));
    const results = await runEnvoyValidate([...sotwItems, ...deltaItems], { binary: tools.envoyValidate });
    expect(allViolations(results)).toEqual([]);
    const sotwResults = results.slice(0, sotwItems.length);
    const deltaResults = results.slice(sotwItems.length);

    // The capture really held every kind of resource and the shapes that matter.
    expect(new Set(sotwResults.map((r) => r.typeUrl))).toEqual(new Set(Object.values(TYPE_URLS)));
    expect(new Set(deltaResults.map((r) => r.typeUrl))).toEqual(new Set(Object.values(TYPE_URLS)));
    // A Delta Resource wraps its Any with a name and a version: both agree with what it carries.
    for (const r of delta.responses) {
      for (const d of deltaDecoded(r)) {
        expect(d.name).toBe(d.res.name);
        expect(d.res.version).not.toBe('');
        expect(d.typeUrl).toBe(r.type_url);
      }
    }
    expect(new Set(deltaHealthsIn(delta.responses))).toEqual(new Set(['HEALTHY', 'UNHEALTHY', 'DRAINING']));
    const healths = new Set(healthsIn(client.responses));
    expect(healths).toEqual(new Set(['HEALTHY', 'UNHEALTHY', 'DRAINING']));
    const clusters = client.responses.filter((r) => r.type_url === TYPE_URLS.cluster).flatMap(decoded);
    expect(clusters.some((c) => Array.isArray(c.message.health_checks) && c.message.health_checks.length > 0)).toBe(true);
    const priorities = client.responses
      .filter((r) => r.type_url === TYPE_URLS.endpoint)
      .flatMap(decoded)
      .flatMap((d) => (d.message.endpoints as { priority?: number }[] | undefined) ?? [])
      .map((l) => l.priority ?? 0);
    expect(new Set(priorities)).toEqual(new Set([0, 1]));
  });
});
