// Issue 4 part 2 at the e2e tier: every CDS/EDS/LDS/RDS resource a Herald process serves from
// three real clusters — over SotW and over Delta, to an Envoy-style and a proxyless-style
// subscriber — passes the protoc-gen-validate rules Envoy enforces on ingest (envoy-validate).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TYPE_URLS } from '../../src/model/index.js';
import { loadEnvoyProtos, ResourceEncoder } from '../../src/resources/index.js';
import { RawAdsClient, type RawResponse } from '../interop/raw-ads.js';
import { RawDeltaClient, type RawDeltaResponse } from '../interop/raw-delta.js';
import { interopSuite } from '../interop/suite.js';
import { allViolations, runEnvoyValidate, type ValidateItem } from '../interop/tools.js';
import { HeraldProcess } from './harness/herald.js';
import { E2eEnv, e2eBins, type TestCluster } from './harness/suite.js';

const bins = e2eBins();
// Names as Herald gives them: `<app label>.<namespace>`.
const SERVICES = ['shop.default', 'cart.default'];
const NAMED = [TYPE_URLS.endpoint, TYPE_URLS.listener, TYPE_URLS.route];
const WAIT_MS = 60_000;

interface Decoded {
  typeUrl: string;
  name: string;
  message: Record<string, unknown>;
}

interopSuite('e2e: resources a Herald process serves pass envoy-validate', (tools) => {
  describe.skipIf(bins === '')('three clusters, SotW and Delta', () => {
    let env: E2eEnv;
    let east: TestCluster;
    let west: TestCluster;
    let north: TestCluster;
    let herald: HeraldProcess;
    let encoder: ResourceEncoder;
    // Envoy-style: wildcard CDS and LDS, named EDS. Proxyless-style: every type by name.
    let sidecar: RawAdsClient;
    let proxyless: RawAdsClient;
    let delta: RawDeltaClient;

    beforeAll(async () => {
      const root = loadEnvoyProtos();
      encoder = new ResourceEncoder(root);
      env = new E2eEnv(bins);
      [east, west, north] = await env.startClusters([
        {
          name: 'east',
          nodes: [
            { name: 'east-n1', zone: 'east-a', region: 'east' },
            { name: 'east-n2', zone: 'east-b', region: 'east' },
          ],
        },
        { name: 'west', nodes: [{ name: 'west-n1', zone: 'west-a', region: 'west' }] },
        { name: 'north', nodes: [{ name: 'north-n1', zone: 'north-a', region: 'north' }] },
      ]);
      // These addresses are only data in EDS: nothing ever connects to them.
      await east.kubelet.runPod({ name: 'shop-e1', service: 'shop', node: 'east-n1', ip: '10.1.0.1', port: 8080 });
      await east.kubelet.runPod({ name: 'shop-e2', service: 'shop', node: 'east-n2', ip: '10.1.0.2', port: 8080, graceSeconds: 120 });
      await west.kubelet.runPod({ name: 'shop-w1', service: 'shop', node: 'west-n1', ip: '10.2.0.1', port: 8080, via: 'named-port' });
      await west.kubelet.runPod({ name: 'shop-w2', service: 'shop', node: 'west-n1', ip: '10.2.0.2', port: 8080, graceSeconds: 120 });
      await north.kubelet.runPod({ name: 'shop-n1', service: 'shop', node: 'north-n1', ip: '10.3.0.1', port: 9090 });
      // cart is a gRPC service: one pod says so by annotation, the other by its port's name.
      await east.kubelet.runPod({ name: 'cart-e1', service: 'cart', node: 'east-n1', ip: '10.1.1.1', port: 7000, appProtocol: 'grpc' });
      await north.kubelet.runPod({ name: 'cart-n1', service: 'cart', node: 'north-n1', ip: '10.3.1.1', port: 7000, portName: 'grpc-cart', graceSeconds: 120 });

      herald = await HeraldProcess.start({
        group: env.group,
        dir: env.dir,
        clusters: [east, west, north].map((c) => ({ name: c.kube.name, kubeconfig: c.heraldKubeconfig })),
        localCluster: 'east',
        initialSyncTimeout: '60s',
      });
      sidecar = new RawAdsClient(root, herald.xdsTarget, 'validation-sidecar');
      proxyless = new RawAdsClient(root, herald.xdsTarget, 'validation-proxyless');
      delta = new RawDeltaClient(root, herald.xdsTarget, 'validation-delta');
    });

    afterAll(async () => {
      sidecar?.close();
      proxyless?.close();
      delta?.close();
      await env?.close();
    });

    const decoded = (anys: Buffer[]): Decoded[] => anys.map((any) => encoder.decodeAny(any) as Decoded);
    const sotwOf = (rs: RawResponse[], typeUrl: string) => decoded(rs.filter((r) => r.type_url === typeUrl).flatMap((r) => r.resources));
    const deltaOf = (rs: RawDeltaResponse[], typeUrl: string) => decoded(rs.filter((r) => r.type_url === typeUrl).flatMap((r) => r.resources.map((x) => x.any)));
    const hasAll = (found: Decoded[]) => SERVICES.every((s) => found.some((d) => d.name === s));
    const healths = (assignments: Decoded[]) =>
      assignments
        .flatMap((d) => (d.message.endpoints as { lb_endpoints?: { health_status?: string }[] }[] | undefined) ?? [])
        .flatMap((locality) => (locality.lb_endpoints ?? []).map((e) => e.health_status ?? 'UNKNOWN'));
    const priorities = (assignments: Decoded[]) => assignments.flatMap((d) => (d.message.endpoints as { priority?: number }[] | undefined) ?? []).map((l) => l.priority ?? 0);

    it('serves every type over SotW and Delta with zero violations, through drains', async () => {
      sidecar.subscribe(TYPE_URLS.cluster, []);
      sidecar.subscribe(TYPE_URLS.listener, []);
      delta.subscribe(TYPE_URLS.cluster, []);
      for (const typeUrl of [TYPE_URLS.cluster, ...NAMED]) proxyless.subscribe(typeUrl, SERVICES);
      await sidecar.waitFor((rs) => hasAll(sotwOf(rs, TYPE_URLS.cluster)), WAIT_MS, 'SotW CDS with both services');
      await delta.waitFor((rs) => hasAll(deltaOf(rs, TYPE_URLS.cluster)), WAIT_MS, 'Delta CDS with both services');
      sidecar.subscribe(TYPE_URLS.endpoint, SERVICES);
      for (const typeUrl of NAMED) delta.subscribe(typeUrl, SERVICES);

      const allEndpoints = (assignments: Decoded[]) => healths(assignments.filter((d) => d.name === 'shop.default')).length >= 5;
      await sidecar.waitFor((rs) => allEndpoints(sotwOf(rs, TYPE_URLS.endpoint)), WAIT_MS, 'SotW EDS with every shop endpoint');
      await proxyless.waitFor((rs) => [TYPE_URLS.cluster, ...NAMED].every((t) => hasAll(sotwOf(rs, t))), WAIT_MS, 'proxyless CDS, EDS, LDS and RDS');
      await delta.waitFor((rs) => NAMED.every((t) => hasAll(deltaOf(rs, t))) && allEndpoints(deltaOf(rs, TYPE_URLS.endpoint)), WAIT_MS, 'Delta EDS, LDS and RDS');

      // Pods in the local and in remote clusters start draining; the kubelet never finishes them.
      await east.kubelet.deletePod('default', 'shop-e2', { completion: 'never' });
      await west.kubelet.deletePod('default', 'shop-w2', { completion: 'never' });
      await north.kubelet.deletePod('default', 'cart-n1', { completion: 'never' });
      const drained = (assignments: Decoded[]) => healths(assignments).filter((h) => h === 'DRAINING').length >= 3;
      await sidecar.waitFor((rs) => drained(sotwOf(rs, TYPE_URLS.endpoint)), WAIT_MS, 'SotW: three DRAINING endpoints');
      await proxyless.waitFor((rs) => drained(sotwOf(rs, TYPE_URLS.endpoint)), WAIT_MS, 'proxyless: three DRAINING endpoints');
      await delta.waitFor((rs) => drained(deltaOf(rs, TYPE_URLS.endpoint)), WAIT_MS, 'Delta: three DRAINING endpoints');

      const sotwItems = (who: string, client: RawAdsClient): ValidateItem[] =>
        client.responses.flatMap((r, i) => r.resources.map((any, j) => ({ source: `${who} response ${i} (${r.type_url}) resource ${j}`, any })));
      const deltaItems: ValidateItem[] = delta.responses.flatMap((r, i) =>
        r.resources.map((x, j) => ({ source: `delta response ${i} (${r.type_url}) resource ${j} "${x.name}"`, any: x.any })),
      );
      const groups = [sotwItems('sidecar', sidecar), sotwItems('proxyless', proxyless), deltaItems];
      const results = await runEnvoyValidate(groups.flat(), { binary: tools.envoyValidate });
      expect(allViolations(results)).toEqual([]);

      // The capture cannot pass vacuously: it held every type over each protocol, both health
      // states, and both priorities (local cluster first).
      const [sidecarResults, proxylessResults, deltaResults] = [
        results.slice(0, groups[0]!.length),
        results.slice(groups[0]!.length, groups[0]!.length + groups[1]!.length),
        results.slice(groups[0]!.length + groups[1]!.length),
      ];
      const allTypes = new Set(Object.values(TYPE_URLS));
      expect(new Set([...sidecarResults, ...proxylessResults].map((r) => r.typeUrl))).toEqual(allTypes);
      expect(new Set(proxylessResults.map((r) => r.typeUrl))).toEqual(allTypes);
      expect(new Set(deltaResults.map((r) => r.typeUrl))).toEqual(allTypes);
      for (const assignments of [sotwOf(sidecar.responses, TYPE_URLS.endpoint), sotwOf(proxyless.responses, TYPE_URLS.endpoint), deltaOf(delta.responses, TYPE_URLS.endpoint)]) {
        expect(new Set(healths(assignments))).toEqual(new Set(['HEALTHY', 'DRAINING']));
        expect(new Set(priorities(assignments))).toEqual(new Set([0, 1]));
      }
      // cart's cluster speaks HTTP/2 upstream, shop's has no protocol options (HTTP/1.1), on every protocol.
      for (const clusters of [sotwOf(sidecar.responses, TYPE_URLS.cluster), sotwOf(proxyless.responses, TYPE_URLS.cluster), deltaOf(delta.responses, TYPE_URLS.cluster)]) {
        const options = (name: string) => clusters.filter((d) => d.name === name).map((d) => d.message.typed_extension_protocol_options);
        expect(options('cart.default')).toContainEqual({
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
            '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
            explicit_http_config: { http2_protocol_options: {} },
          },
        });
        expect(options('shop.default').every((o) => o === undefined)).toBe(true);
      }
      // A wildcard LDS subscriber (a sidecar) gets no API listeners; named ones get one each.
      expect(sotwOf(sidecar.responses, TYPE_URLS.listener)).toEqual([]);
      expect(new Set(sotwOf(proxyless.responses, TYPE_URLS.listener).map((d) => d.name))).toEqual(new Set(SERVICES));
      for (const r of delta.responses) {
        for (const [i, d] of decoded(r.resources.map((x) => x.any)).entries()) {
          expect(d.name).toBe(r.resources[i]!.name);
          expect(d.typeUrl).toBe(r.type_url);
        }
      }
    });
  });
});
