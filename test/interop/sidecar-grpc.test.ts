// A gRPC service called through an Envoy sidecar, as far as this machine can show it without an
// Envoy binary: a pod that names its port `grpc` makes Herald serve its cluster with HTTP/2
// upstream options; the sidecar bootstrap `herald bootstrap --egress-service` writes takes the
// app's h2c (its egress listener leaves codec_type at AUTO), and the routes Herald serves it over
// RDS send the service's authority to that cluster; the bootstrap, the served cluster and the
// served routes all pass Envoy's validation rules.
import type { V1Pod } from '@kubernetes/client-node';
import type protobuf from 'protobufjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/app/index.js';
import { buildSidecarBootstrap } from '../../src/bootstrap/index.js';
import { TYPE_URLS } from '../../src/model/index.js';
import { loadEnvoyProtos, ResourceEncoder } from '../../src/resources/index.js';
import { translatePod } from '../../src/sources/kube/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { AdsClient } from '../../src/xdsclient/index.js';
import { ManualSource } from '../helpers/manual-source.js';
import { RawAdsClient } from './raw-ads.js';
import { interopSuite } from './suite.js';
import { allViolations, runEnvoyValidate } from './tools.js';

type Obj = Record<string, any>;

/** A Ready pod of `app` in namespace shop whose one container port has the given name. */
function kubePod(app: string, ip: string, portName: string, annotations: Record<string, string> = {}): V1Pod {
  return {
    metadata: { namespace: 'shop', name: `${app}-0`, uid: `uid-${app}`, labels: { app }, annotations },
    spec: { nodeName: 'node-1', containers: [{ name: app, ports: [{ name: portName, containerPort: 50051 }] }] },
    status: { podIP: ip, phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

interopSuite('a gRPC service through the sidecar: bootstrap and served cluster', (tools) => {
  let root: protobuf.Root;
  let encoder: ResourceEncoder;
  let daemon: Daemon;
  let client: RawAdsClient;

  beforeAll(async () => {
    root = loadEnvoyProtos();
    encoder = new ResourceEncoder(root);
    const options = { cluster: 'kube-a', serviceLabel: 'app', serviceScope: 'namespace' as const, portName: 'grpc' };
    // ledger speaks gRPC (its port is named grpc); web says HTTP/1.1 in its annotation although its port is named grpc too.
    const pods = [kubePod('ledger', '10.0.0.10', 'grpc'), kubePod('web', '10.0.0.11', 'grpc', { 'herald.io/app-protocol': 'http' })].map((p) => translatePod(p, options));
    daemon = await startDaemon(
      {
        sources: [new ManualSource('kube-a', { pods, nodes: [{ cluster: 'kube-a', name: 'node-1', region: 'r1', zone: 'z1' }] })],
        initialSyncTimeoutMs: 5_000,
        xds: { host: '127.0.0.1', port: 0 },
        admin: undefined,
      },
      { logger: silentLogger(), metrics: new HeraldMetrics({ defaultMetrics: false }) },
    );
    await daemon.ready;
    client = new RawAdsClient(root, `127.0.0.1:${daemon.xdsPort}`, 'cart-0.shop');
  });

  afterAll(async () => {
    client?.close();
    await daemon?.stop(1_000);
  });

  it('serves the gRPC service an HTTP/2 cluster the sidecar egress routes to, and Envoy rules accept both', async () => {
    client.subscribe(TYPE_URLS.cluster, []);
    await client.waitFor((rs) => rs.some((r) => r.type_url === TYPE_URLS.cluster && r.resources.length === 2), 10_000, 'CDS with ledger and web');
    const cds = client.responses.filter((r) => r.type_url === TYPE_URLS.cluster).at(-1)!;
    const clusters = new Map(cds.resources.map((any) => [encoder.decodeAny(any).name, { any, message: encoder.decodeAny(any).message as Obj }]));
    expect(clusters.get('ledger.shop')?.message.typed_extension_protocol_options).toEqual({
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    });
    expect(clusters.get('web.shop')?.message).not.toHaveProperty('typed_extension_protocol_options');

    const bootstrap = buildSidecarBootstrap({
      service: 'cart.shop',
      nodeId: 'cart-0.shop',
      xdsHost: 'herald.herald.svc.cluster.local',
      xdsPort: 18000,
      dependencies: ['ledger.shop'],
      egressPort: 15001,
    }) as Obj;
    const egress = (bootstrap.static_resources.listeners as Obj[]).find((l) => l.name === 'herald_egress')!;
    const hcm = egress.filter_chains[0].filters[0].typed_config as Obj;
    // AUTO (the default) takes the app's HTTP/2 preface (gRPC over h2c) as well as HTTP/1.1.
    expect(hcm.codec_type ?? 'AUTO').toBe('AUTO');
    expect(bootstrap.dynamic_resources.cds_config).toBeDefined();

    // The routes come from Herald over RDS, to a sidecar that declared ledger.shop as the bootstrap says.
    const routeName = hcm.rds.route_config_name as string;
    const sidecar = new AdsClient({
      target: `127.0.0.1:${daemon.xdsPort}`,
      nodeId: 'cart-1.shop',
      dependencies: bootstrap.node.metadata['herald.io/dependencies'] as string[],
      routeConfigs: [routeName],
      protos: root,
    }).start();
    try {
      await sidecar.waitFor((c) => c.routes(routeName) !== undefined && c.clusters().length === 1, 10_000);
      expect(sidecar.clusters()).toEqual(['ledger.shop']);
      expect(sidecar.routeFor(routeName, 'ledger.shop')).toBe('ledger.shop');
      expect(sidecar.routeFor(routeName, 'ledger.shop.svc.cluster.local:50051')).toBe('ledger.shop');
    } finally {
      await sidecar.close();
    }
    const routes = daemon.cache.get('route', routeName);
    expect(routes).toBeDefined();

    const results = await runEnvoyValidate(
      [
        { source: 'sidecar bootstrap with ledger.shop as egress', bootstrap },
        ...[...clusters].map(([name, c]) => ({ source: `served cluster ${name}`, any: c.any })),
        { source: 'served egress routes', any: routes!.any },
      ],
      { binary: tools.envoyValidate },
    );
    expect(results).toHaveLength(4);
    expect(allViolations(results)).toEqual([]);
  });
});
