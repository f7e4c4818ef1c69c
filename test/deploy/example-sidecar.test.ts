import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yargs from 'yargs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bootstrapCommand } from '../../src/cli/bootstrap.js';
import { egressRouteName } from '../../src/model/index.js';
import { locateInteropTools, runEnvoyValidate } from '../interop/tools.js';
import { renderDeploy } from './kustomize.js';

type Obj = Record<string, any>;

const interop = locateInteropTools();
const objects = renderDeploy('examples/sidecar') as Obj[];
const deployment = objects.find((o) => o.kind === 'Deployment')!;
const spec = deployment.spec.template.spec;
const init = spec.initContainers.find((c: Obj) => c.name === 'envoy-bootstrap');
const envoy = spec.initContainers.find((c: Obj) => c.name === 'envoy');

/** Runs the init container's `herald bootstrap` args here, with the pod's downward-API env. */
async function runInitContainer(): Promise<{ bootstrap: Obj; sds: Map<string, Obj>; outDir: string }> {
  const args = [...init.args] as string[];
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-example-'));
  const out = path.join(dir, 'envoy.json');
  args[args.indexOf('--file') + 1] = out;
  vi.stubEnv('POD_NAME', 'cart-5c9d-x2x4q');
  vi.stubEnv('POD_NAMESPACE', 'shop');
  try {
    await yargs(args)
      .command(bootstrapCommand(() => {}))
      .strict()
      .fail((m, e) => {
        throw e ?? new Error(m);
      })
      .parseAsync();
    const sds = new Map<string, Obj>();
    for (const f of readdirSync(dir).filter((name) => name !== 'envoy.json')) sds.set(f, JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Obj);
    return { bootstrap: JSON.parse(readFileSync(out, 'utf8')) as Obj, sds, outDir: dir };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('deploy/examples/sidecar', () => {
  it('writes the bootstrap where the Envoy sidecar reads it, before Envoy starts', () => {
    expect(init.image).toBe('herald:0.1.0');
    expect(init.args[0]).toBe('bootstrap');
    expect(envoy.restartPolicy).toBe('Always');
    expect(spec.initContainers.indexOf(init)).toBeLessThan(spec.initContainers.indexOf(envoy));
    const written = init.args[init.args.indexOf('--file') + 1];
    const read = envoy.args[envoy.args.indexOf('--config-path') + 1];
    expect(read).toBe(written);
    const mountOf = (c: Obj) => c.volumeMounts.find((m: Obj) => written.startsWith(`${m.mountPath}/`));
    expect(mountOf(init).name).toBe(mountOf(envoy).name);
    expect(spec.volumes.find((v: Obj) => v.name === mountOf(init).name).emptyDir).toBeDefined();
    for (const name of ['POD_NAME', 'POD_NAMESPACE']) expect(init.env.map((e: Obj) => e.name)).toContain(name);
  });

  it('starts the app only after Envoy is LIVE: startup and readiness probes on the readiness listener', async () => {
    const { bootstrap } = await runInitContainer();
    const readiness = bootstrap.static_resources.listeners.find((l: Obj) => l.name === 'herald_readiness');
    expect(readiness.address.socket_address.address).toBe('0.0.0.0');
    const port = readiness.address.socket_address.port_value as number;
    expect(port).toBe(Number(init.args[init.args.indexOf('--readiness-port') + 1]));
    for (const probe of [envoy.startupProbe, envoy.readinessProbe]) expect(probe.httpGet).toEqual({ path: '/ready', port });
    expect(envoy.ports).toContainEqual({ name: 'envoy-ready', containerPort: port });
    // Kubelet waits for a native sidecar's startup probe before starting the app containers.
    expect(envoy.restartPolicy).toBe('Always');
    expect(spec.containers.map((c: Obj) => c.name)).not.toContain('envoy');
    // Envoy holds back going LIVE until Herald answered CDS and LDS.
    for (const source of [bootstrap.dynamic_resources.cds_config, bootstrap.dynamic_resources.lds_config]) expect(source.initial_fetch_timeout).toBe('0s');
  });

  it('is itself a Herald endpoint: service label and a port named http', () => {
    expect(deployment.spec.template.metadata.labels.app).toBe('cart');
    expect(spec.containers[0].ports).toContainEqual({ name: 'http', containerPort: 8080 });
  });

  it('produces a bootstrap naming the pod, the service and the headless Service', async () => {
    const { bootstrap } = await runInitContainer();
    expect(bootstrap.node).toEqual({
      id: 'cart-5c9d-x2x4q.shop',
      cluster: 'cart.shop',
      metadata: { 'herald.io/kube-cluster': 'cluster-a', 'herald.io/namespace': 'shop', 'herald.io/dependencies': ['ledger.shop'] },
    });
    const address = bootstrap.static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    expect(address).toEqual({ address: 'herald.herald.svc.cluster.local', port_value: 18000 });
    // The egress listener's routes come from Herald, named after the declared dependencies.
    const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    expect(hcm.rds.route_config_name).toBe(egressRouteName(['ledger.shop']));
  });

  it('talks mTLS to Herald with the SPIFFE files Envoy has mounted, through SDS files next to the bootstrap', async () => {
    const { bootstrap, sds, outDir } = await runInitContainer();
    const tls = bootstrap.static_resources.clusters[0].transport_socket.typed_config;
    expect(tls.sni).toBe('herald.herald.svc.cluster.local');
    const spiffe = envoy.volumeMounts.find((m: Obj) => m.name === 'spiffe');
    expect(spec.volumes.find((v: Obj) => v.name === 'spiffe').csi.driver).toBe('spiffe.csi.cert-manager.io');
    // Every PEM file an SDS secret names lies in the SPIFFE mount, and that mount is what is watched.
    const secrets = [...sds.values()].map((f: Obj) => f.resources[0]);
    const files = secrets.flatMap((s: Obj) =>
      [s.validation_context?.trusted_ca, s.tls_certificate?.certificate_chain, s.tls_certificate?.private_key].filter(Boolean).map((d: Obj) => d.filename),
    );
    expect(files.sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key'].map((f) => `${spiffe.mountPath}/${f}`));
    for (const s of secrets) expect((s.validation_context ?? s.tls_certificate).watched_directory).toEqual({ path: spiffe.mountPath });
    // The SDS files go next to the bootstrap (no --sds-dir), which Envoy mounts from the same
    // volume the init container writes (checked above).
    expect(init.args).not.toContain('--sds-dir');
    const sdsPaths = [tls.common_tls_context.combined_validation_context.validation_context_sds_secret_config, ...tls.common_tls_context.tls_certificate_sds_secret_configs].map(
      (c: Obj) => c.sds_config.path_config_source.path as string,
    );
    expect(sdsPaths.map((p) => path.posix.dirname(p))).toEqual([outDir, outDir]);
    expect(sdsPaths.map((p) => path.posix.basename(p)).sort()).toEqual([...sds.keys()].sort());
  });

  it.skipIf(!interop.tools)(`produces a bootstrap and SDS files that pass Envoy validation${interop.reason ? ` (${interop.reason})` : ''}`, async () => {
    const { bootstrap, sds } = await runInitContainer();
    const results = await runEnvoyValidate([
      { source: 'examples/sidecar', bootstrap },
      ...[...sds].map(([name, message]) => ({ source: name, type: 'envoy.service.discovery.v3.DiscoveryResponse', message })),
    ]);
    expect(results.map((r) => [r.source, r.violations])).toEqual(['examples/sidecar', ...sds.keys()].map((source) => [source, []]));
  });
});
