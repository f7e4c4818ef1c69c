import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yargs from 'yargs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bootstrapCommand } from '../../src/cli/bootstrap.js';
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
async function runInitContainer(): Promise<Obj> {
  const args = [...init.args] as string[];
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-example-'));
  const out = path.join(dir, 'envoy.json');
  args[args.indexOf('--output') + 1] = out;
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
    return JSON.parse(readFileSync(out, 'utf8')) as Obj;
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
    const written = init.args[init.args.indexOf('--output') + 1];
    const read = envoy.args[envoy.args.indexOf('--config-path') + 1];
    expect(read).toBe(written);
    const mountOf = (c: Obj) => c.volumeMounts.find((m: Obj) => written.startsWith(`${m.mountPath}/`));
    expect(mountOf(init).name).toBe(mountOf(envoy).name);
    expect(spec.volumes.find((v: Obj) => v.name === mountOf(init).name).emptyDir).toBeDefined();
    for (const name of ['POD_NAME', 'POD_NAMESPACE']) expect(init.env.map((e: Obj) => e.name)).toContain(name);
  });

  it('is itself a Herald endpoint: service label and a port named http', () => {
    expect(deployment.spec.template.metadata.labels.app).toBe('cart');
    expect(spec.containers[0].ports).toContainEqual({ name: 'http', containerPort: 8080 });
  });

  it('produces a bootstrap naming the pod, the service and the headless Service', async () => {
    const bootstrap = await runInitContainer();
    expect(bootstrap.node).toEqual({ id: 'cart-5c9d-x2x4q.shop', cluster: 'cart.shop' });
    const address = bootstrap.static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    expect(address).toEqual({ address: 'herald.herald.svc.cluster.local', port_value: 18000 });
    const hosts = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts;
    expect(hosts.map((h: Obj) => h.name)).toEqual(['ledger.shop']);
  });

  it.skipIf(!interop.tools)(`produces a bootstrap that passes Envoy validation${interop.reason ? ` (${interop.reason})` : ''}`, async () => {
    const bootstrap = await runInitContainer();
    const [result] = await runEnvoyValidate([{ source: 'examples/sidecar', bootstrap }]);
    expect(result!.violations).toEqual([]);
  });
});
