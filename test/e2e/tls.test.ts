// xDS over mTLS end to end: Herald serves with --tls-cert/--tls-key/--tls-ca against a real
// apiserver; a sidecar-like client presenting a SPIFFE certificate for its namespace (node id
// POD.NAMESPACE, as `herald bootstrap` writes it) sees a pod go DRAINING after its DELETE;
// grpc-go's own xDS client, given a TLS bootstrap, stops calling that pod's backend; clients
// without a certificate, without TLS, or with a certificate from another CA get nothing.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdsClient } from '../../src/xdsclient/index.js';
import { loadEnvoyProtos } from '../../src/resources/protos.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { XdsProbe, type CallReport } from '../interop/xds-probe.js';
import { locateInteropTools } from '../interop/tools.js';
import { E2eEnv, e2eBins, type TestCluster } from './harness/suite.js';
import { HERALD_MAIN, HeraldProcess } from './harness/herald.js';
import { makeMeshPki, type CertFiles, type MeshPki } from './harness/pki.js';
import { endpointMap, healthView, until } from './harness/xds.js';

const bins = e2eBins();
const interop = locateInteropTools();
const NAMESPACE = 'shop';
const SPIFFE_ID = `spiffe://cluster.local/ns/${NAMESPACE}/sa/cart`;
// Loopback IPs of this file's own: the grpc-go client really calls these backends.
const BACKEND_IPS = ['127.0.0.71', '127.0.0.72'] as const;

/** Herald reads HERALD_* variables as flags: keep the developer's own out of the CLI it runs. */
function withoutHeraldEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
}

describe.skipIf(bins === '')('e2e: xDS over mTLS', () => {
  let env: E2eEnv;
  let cluster: TestCluster;
  let pki: MeshPki;
  let herald: HeraldProcess;
  let sidecar: AdsClient;
  let service: string;
  const backends: EchoBackend[] = [];
  const refused: AdsClient[] = [];
  let probe: XdsProbe | undefined;
  const protos = loadEnvoyProtos();

  function client(nodeId: string, credentials: grpc.ChannelCredentials): AdsClient {
    const c = new AdsClient({ target: herald.xdsTarget, nodeId, protos, credentials, backoff: { baseMs: 200, capMs: 1_000 } });
    c.on('error', () => undefined);
    return c.start();
  }

  const mtls = (identity: CertFiles, ca = pki.caCert) => grpc.credentials.createSsl(readFileSync(ca), readFileSync(identity.key), readFileSync(identity.cert));

  beforeAll(async () => {
    env = new E2eEnv(bins);
    [cluster] = await env.startClusters([{ name: 'east', nodes: [{ name: 'east-n1', zone: 'east-a', region: 'east' }] }]);
    await cluster.kube.core().createNamespace({ body: { metadata: { name: NAMESPACE } } });
    pki = makeMeshPki(env.dir);
    herald = await HeraldProcess.start({
      group: env.group,
      dir: env.dir,
      clusters: [{ name: 'east', kubeconfig: cluster.heraldKubeconfig }],
      extraArgs: ['--tls-cert', pki.herald.cert, '--tls-key', pki.herald.key, '--tls-ca', pki.caCert],
    });
    for (const [i, ip] of BACKEND_IPS.entries()) {
      const backend = await startEchoBackend(`payments-${i}`, ip);
      backends.push(backend);
      await cluster.kubelet.runPod({ name: backend.name, namespace: NAMESPACE, service: 'payments', node: 'east-n1', ip, port: backend.port });
    }
    sidecar = client(`cart-7d9f.${NAMESPACE}`, mtls(pki.client('cart', SPIFFE_ID)));
    // The only service there is, named <label>.<namespace>.
    await until(sidecar, 'the sidecar holds one cluster', (c) => c.clusters().length === 1, 60_000);
    service = sidecar.clusters()[0]!;
  });

  afterAll(async () => {
    await probe?.close();
    await Promise.all([sidecar, ...refused].map((c) => c?.close()));
    await Promise.all(backends.map((b) => b.stop()));
    await env?.close();
  });

  it('serves the authenticated sidecar both endpoints of its namespace’s service', async () => {
    expect(service).toBe(`payments.${NAMESPACE}`);
    const [a, b] = backends;
    await until(sidecar, 'both healthy', (c) => healthView(c, service).join() === `${a!.host}:${a!.port}=HEALTHY,${b!.host}:${b!.port}=HEALTHY`, 30_000, [service]);
  });

  it('refuses clients without TLS, without a certificate, or with another CA’s certificate', async () => {
    const rogue = makeMeshPki(env.dir, 'rogue');
    const attempts = {
      plaintext: client(`plain-1.${NAMESPACE}`, grpc.credentials.createInsecure()),
      'no client certificate': client(`anon-1.${NAMESPACE}`, grpc.credentials.createSsl(readFileSync(pki.caCert))),
      'rogue CA': client(`cart-rogue.${NAMESPACE}`, mtls(rogue.client('cart', SPIFFE_ID), pki.caCert)),
    };
    refused.push(...Object.values(attempts));
    const ended = new Map<string, grpc.status[]>();
    for (const [name, c] of Object.entries(attempts)) c.on('streamEnd', (_target, code) => ended.set(name, [...(ended.get(name) ?? []), code]));
    // Each is refused more than once (it keeps retrying), and never gets a single response.
    await expect.poll(() => Object.keys(attempts).every((name) => (ended.get(name)?.length ?? 0) >= 2), { timeout: 20_000, interval: 200 }).toBe(true);
    for (const [name, c] of Object.entries(attempts)) {
      expect({ name, responses: c.stats().responses, clusters: c.clusters() }).toEqual({ name, responses: 0, clusters: [] });
      expect({ name, codes: [...new Set(ended.get(name))] }).toEqual({ name, codes: [grpc.status.UNAVAILABLE] });
    }
    // Herald never saw them as xDS clients; the sidecar still is one.
    const { body } = await herald.debug<{ node?: { id?: string } }[] | { clients?: { node?: { id?: string } }[] }>('clients');
    const ids = JSON.stringify(body);
    expect(ids).toContain(`cart-7d9f.${NAMESPACE}`);
    for (const id of ['plain-1', 'anon-1', 'cart-rogue']) expect(ids).not.toContain(id);
  });

  it('answers `herald status` (CSDS) over mTLS with an operator certificate', () => {
    const operator = pki.client('operator', undefined, 'herald-operator');
    const args = ['status', '--address', herald.xdsTarget, '--admin-port', String(herald.adminPort), '-o', 'json'];
    const tlsArgs = ['--tls-ca', pki.caCert, '--tls-cert', operator.cert, '--tls-key', operator.key];
    const run = (extra: string[]) => spawnSync(process.execPath, [HERALD_MAIN, ...args, ...extra], { encoding: 'utf8', timeout: 30_000, env: withoutHeraldEnv() });
    const ok = run(tlsArgs);
    expect(ok.status, ok.stderr).toBe(0);
    const rows = JSON.parse(ok.stdout) as { nodeId: string }[];
    expect(rows.map((r) => r.nodeId)).toContain(`cart-7d9f.${NAMESPACE}`);
    // The same without a certificate does not get through.
    const anonymous = run(['--tls-ca', pki.caCert]);
    expect(anonymous.status).not.toBe(0);
    expect(anonymous.stdout).not.toContain('cart-7d9f');
  });

  const withProbe = it.skipIf(!interop.tools);
  const probeNote = interop.reason ? ` (${interop.reason})` : '';

  async function callUntil(done: (r: CallReport) => boolean): Promise<CallReport> {
    let last: CallReport | undefined;
    for (let round = 0; round < 30; round++) {
      last = await probe!.call(20);
      if (done(last)) return last;
    }
    throw new Error(`grpc-go probe: condition not met; last ${JSON.stringify(last)}; stderr ${probe!.stderr}`);
  }

  withProbe(`grpc-go's xDS client, given a TLS bootstrap, balances over both${probeNote}`, async () => {
    const identity = pki.client('checkout', `spiffe://cluster.local/ns/${NAMESPACE}/sa/checkout`);
    probe = await XdsProbe.start({
      launch: { command: interop.tools!.grpcXdsProbe, args: [] },
      label: 'grpc-go',
      target: `xds:///${service}`,
      bootstrap: {
        xds_servers: [
          {
            server_uri: herald.xdsTarget,
            channel_creds: [{ type: 'tls', config: { ca_certificate_file: pki.caCert, certificate_file: identity.cert, private_key_file: identity.key } }],
            server_features: ['xds_v3'],
          },
        ],
        node: { id: `checkout-5b2c.${NAMESPACE}`, locality: { region: 'east', zone: 'east-a' } },
      },
    });
    const both = await callUntil((r) => r.errors === 0 && Object.keys(r.backends).length === 2);
    expect(Object.keys(both.backends).sort()).toEqual(['payments-0', 'payments-1']);
  });

  it('tells the mTLS sidecar DRAINING for a deleted pod that still terminates', async () => {
    // No kubelet finishes the deletion: the pod stays terminating, its backend keeps running.
    await cluster.kubelet.deletePod(NAMESPACE, 'payments-1', { graceSeconds: 120, completion: 'never' });
    const [a, b] = backends;
    await until(sidecar, 'payments-1 draining', (c) => endpointMap(c, service).get(`${b!.host}:${b!.port}`)?.health === 'DRAINING', 30_000, [service]);
    expect(endpointMap(sidecar, service).get(`${a!.host}:${a!.port}`)?.health).toBe('HEALTHY');
    const stillThere = await cluster.kube.core().readNamespacedPod({ name: 'payments-1', namespace: NAMESPACE });
    expect(stillThere.metadata?.deletionTimestamp).toBeDefined();
    expect(cluster.kubelet.failures).toEqual([]);
  });

  withProbe(`grpc-go's xDS client stops calling the terminating pod's backend${probeNote}`, async () => {
    await callUntil((r) => r.errors === 0 && r.backends['payments-1'] === undefined);
    const callsBefore = backends[1]!.calls;
    expect(await probe!.call(30)).toEqual({ backends: { 'payments-0': 30 }, errors: 0 });
    expect(backends[1]!.calls).toBe(callsBefore);
  });
});
