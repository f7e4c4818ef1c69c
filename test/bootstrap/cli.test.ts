import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadYaml } from '@kubernetes/client-node';
import yargs from 'yargs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildSdsFiles, buildSidecarBootstrap } from '../../src/bootstrap/index.js';
import { bootstrapCommand, defaultNodeId, formatBootstrap, parseXdsAddress } from '../../src/cli/bootstrap.js';

async function runBootstrap(args: string[], inspect: (dir: string) => void = () => {}): Promise<{ code: number | undefined; text: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-bootstrap-'));
  const out = path.join(dir, 'envoy.json');
  let code: number | undefined;
  try {
    await yargs(['bootstrap', ...args.map((a) => a.replace('$DIR', dir)), '--file', out])
      .command(bootstrapCommand((c) => (code = c)))
      .strict()
      .fail((message, error) => {
        throw error ?? new Error(message);
      })
      .parseAsync();
    inspect(dir);
    return { code, text: readFileSync(out, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The pod's namespace becomes node metadata; tests that want it set it themselves.
beforeEach(() => {
  vi.stubEnv('POD_NAMESPACE', '');
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('herald bootstrap', () => {
  it('writes the builder output as JSON with the given flags', async () => {
    const { code, text } = await runBootstrap(['--service', 'cart', '--xds-address', 'herald.mesh.svc:19000', '--node-id', 'cart-1.shop', '--zone', 'z1', '--no-lds']);
    expect(code).toBe(0);
    expect(JSON.parse(text)).toEqual(buildSidecarBootstrap({ service: 'cart', nodeId: 'cart-1.shop', xdsHost: 'herald.mesh.svc', xdsPort: 19000, zone: 'z1', lds: false }));
  });

  it('writes the readiness listener, kube cluster and namespace from their flags', async () => {
    vi.stubEnv('POD_NAMESPACE', 'from-env');
    const args = ['--service', 'cart', '--node-id', 'cart-1.shop', '--envoy-admin-port', '9901', '--readiness-port', '15021', '--kube-cluster', 'eu-1', '--namespace', 'shop'];
    const { text } = await runBootstrap(args);
    expect(JSON.parse(text)).toEqual(
      buildSidecarBootstrap({
        service: 'cart',
        nodeId: 'cart-1.shop',
        xdsHost: 'herald.herald.svc.cluster.local',
        xdsPort: 18000,
        adminPort: 9901,
        readinessPort: 15021,
        kubeCluster: 'eu-1',
        namespace: 'shop',
      }),
    );
  });

  it.each<[string, Record<string, string>, string[], Record<string, string | string[]> | undefined]>([
    ['namespace from $POD_NAMESPACE', { POD_NAMESPACE: 'shop' }, [], { 'herald.io/namespace': 'shop' }],
    ['--namespace over $POD_NAMESPACE', { POD_NAMESPACE: 'shop' }, ['--namespace', 'books'], { 'herald.io/namespace': 'books' }],
    ['neither: no metadata', { POD_NAMESPACE: '' }, [], undefined],
    ['--kube-cluster alone', { POD_NAMESPACE: '' }, ['--kube-cluster', 'us-2'], { 'herald.io/kube-cluster': 'us-2' }],
    [
      '--egress-service, repeated and comma-separated',
      { POD_NAMESPACE: '' },
      ['--egress-service', 'ledger.pay,cart.shop', '--egress-service', 'auth.id'],
      { 'herald.io/dependencies': ['auth.id', 'cart.shop', 'ledger.pay'] },
    ],
  ])('node metadata: %s', async (_name, env, args, metadata) => {
    for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
    const { text } = await runBootstrap(['--service', 'cart', '--node-id', 'n', ...args]);
    expect((JSON.parse(text) as { node: { metadata?: unknown } }).node.metadata).toEqual(metadata);
  });

  it('writes YAML that reads back to the same object', async () => {
    const { text } = await runBootstrap(['--service', 'cart', '--node-id', 'n', '--output', 'yaml', '--egress-port', '15001', '--egress-service', 'ledger.pay']);
    expect(text).not.toMatch(/[&*]ref|^\s*[{[]/m);
    expect(loadYaml(text)).toEqual(
      buildSidecarBootstrap({
        service: 'cart',
        nodeId: 'n',
        xdsHost: 'herald.herald.svc.cluster.local',
        xdsPort: 18000,
        dependencies: ['ledger.pay'],
        egressPort: 15001,
      }),
    );
  });

  it('with --tls-*, writes the TLS bootstrap and its SDS files next to it, or into --sds-dir', async () => {
    const tlsArgs = ['--tls-ca', '/ca/ca.crt', '--tls-cert', '/id/tls.crt', '--tls-key', '/id/tls.key'];
    let written: string[] = [];
    let sdsDir = '';
    const sds = new Map<string, unknown>();
    const { text } = await runBootstrap(['--service', 'cart', '--node-id', 'n', ...tlsArgs], (dir) => {
      sdsDir = dir;
      written = readdirSync(dir).sort();
      for (const f of written.filter((name) => name.startsWith('herald-xds-'))) sds.set(f, JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
    });
    expect(written).toEqual(['envoy.json', 'herald-xds-ca.json', 'herald-xds-client-cert.json']);
    const bootstrap = JSON.parse(text) as unknown;
    const tls = { caFile: '/ca/ca.crt', certFile: '/id/tls.crt', keyFile: '/id/tls.key', sdsDir, sdsFormat: 'json' as const };
    expect(bootstrap).toEqual(buildSidecarBootstrap({ service: 'cart', nodeId: 'n', xdsHost: 'herald.herald.svc.cluster.local', xdsPort: 18000, tls }));
    expect([...sds.values()]).toEqual(buildSdsFiles(tls).map((f) => f.content));

    let inOwnDir: string[] = [];
    await runBootstrap(['--service', 'cart', '--node-id', 'n', '--output', 'yaml', '--tls-ca', '/ca/ca.crt', '--sds-dir', '$DIR/sds'], (dir) => {
      inOwnDir = readdirSync(path.join(dir, 'sds'));
      expect(loadYaml(readFileSync(path.join(dir, 'sds', 'herald-xds-ca.yaml'), 'utf8'))).toEqual(
        buildSdsFiles({ caFile: '/ca/ca.crt', sdsDir: path.join(dir, 'sds'), sdsFormat: 'yaml' })[0]!.content,
      );
    });
    expect(inOwnDir).toEqual(['herald-xds-ca.yaml']);
  });

  it.each([
    [['--service', 'cart', '--tls-cert', '/a/tls.crt', '--tls-key', '/a/tls.key'], /need --tls-ca/],
    [['--service', 'cart', '--tls-ca', '/a/ca.crt', '--tls-cert', '/a/tls.crt'], /go together/],
    [['--service', 'cart', '--tls-ca', 'ca.crt'], /--tls-ca: 'ca.crt' is not an absolute path/],
    [['--service', 'cart', '--sds-dir', '/sds'], /only used with --tls-ca/],
    [['--service', 'cart', '--tls-ca', '/a/ca.crt', '--tls-cert', '/a/tls.crt', '--tls-key', '/b/tls.key'], /directory/],
    [['--service', 'cart', '--xds-address', 'http://x:1'], /xds-address/],
    [['--service', 'cart', '--egress-port', '15001'], /--egress-port: name the services/],
    [['--service', 'herald_xds'], /reserved/],
    [['--service', 'cart', '--readiness-port', '15021'], /--readiness-port: needs --envoy-admin-port/],
    [['--service', 'cart', '--envoy-admin-port', '9901', '--readiness-port', '9901'], /same as adminPort/],
    [['--service', 'cart', '--envoy-admin-port', '9901', '--readiness-port', 'x'], /--readiness-port: 'x' is not a number/],
    [['--service', 'cart', '--kube-cluster', 'EU 1'], /kubeCluster: 'EU 1' is not a DNS label/],
    [['--service', 'cart', '--namespace', 'Shop'], /namespace/],
    [['--xds-address', 'x'], /service/],
  ])('refuses %j', async (args, message) => {
    await expect(runBootstrap(args)).rejects.toThrow(message);
  });
});

describe('defaultNodeId', () => {
  it.each<[Record<string, string>, string]>([
    [{ POD_NAME: 'cart-abc', POD_NAMESPACE: 'shop' }, 'cart-abc.shop'],
    [{ POD_NAME: 'cart-abc' }, 'cart-abc'],
    [{ POD_NAMESPACE: 'shop' }, 'host-1'],
    [{}, 'host-1'],
  ])('%j → %s', (env, id) => {
    expect(defaultNodeId(env, 'host-1')).toBe(id);
  });
});

describe('parseXdsAddress', () => {
  it.each([
    ['herald.herald.svc.cluster.local', { host: 'herald.herald.svc.cluster.local', port: 18000 }],
    ['herald:19000', { host: 'herald', port: 19000 }],
  ])('%s', (text, parsed) => {
    expect(parseXdsAddress(text)).toEqual(parsed);
  });
  it.each(['', 'a:b', 'a:70000', 'a b:1'])('rejects %j', (text) => {
    expect(() => parseXdsAddress(text)).toThrow(/xds-address/);
  });
});

describe('formatBootstrap', () => {
  it('ends JSON with a newline and keeps key order', () => {
    const text = formatBootstrap({ b: 1, a: { c: '1s' } }, 'json');
    expect(text.endsWith('}\n')).toBe(true);
    expect(Object.keys(JSON.parse(text))).toEqual(['b', 'a']);
  });
});
