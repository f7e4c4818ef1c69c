import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, findExecutable, inClusterConfig, loadKubeConfig, SERVICE_ACCOUNT_DIR } from '../../src/config/index.js';

let dir: string;

function kubeconfig(parts: { contexts?: unknown; clusters?: unknown; users?: unknown; current?: string }): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: parts.clusters ?? [{ name: 'c1', cluster: { server: 'https://127.0.0.1:6443' } }],
    users: parts.users ?? [{ name: 'u1', user: { token: 't' } }],
    contexts: parts.contexts ?? [
      { name: 'one', context: { cluster: 'c1', user: 'u1' } },
      { name: 'two', context: { cluster: 'c1', user: 'u1' } },
    ],
    ...(parts.current !== undefined ? { 'current-context': parts.current } : {}),
  });
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'herald-kubeconfig-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadKubeConfig', () => {
  it('loads the current context', () => {
    const path = file('ok.yaml', kubeconfig({ current: 'two' }));
    const kc = loadKubeConfig({ name: 'east', kubeconfigPath: path });
    expect(kc.getCurrentContext()).toBe('two');
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
  });

  it('switches to the requested context', () => {
    const path = file('ok2.yaml', kubeconfig({ current: 'two' }));
    expect(loadKubeConfig({ name: 'east', kubeconfigPath: path, context: 'one' }).getCurrentContext()).toBe('one');
  });

  it('resolves relative certificate paths against the kubeconfig directory', () => {
    file('ca.crt', 'not really a cert');
    const path = file('rel.yaml', kubeconfig({ current: 'one', clusters: [{ name: 'c1', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority': 'ca.crt' } }] }));
    expect(loadKubeConfig({ name: 'east', kubeconfigPath: path }).getCurrentCluster()?.caFile).toBe(join(dir, 'ca.crt'));
  });

  it('accepts plain http with insecure-skip-tls-verify', () => {
    const path = file('http-ok.yaml', kubeconfig({ current: 'one', clusters: [{ name: 'c1', cluster: { server: 'http://127.0.0.1:8080', 'insecure-skip-tls-verify': true } }] }));
    expect(loadKubeConfig({ name: 'east', kubeconfigPath: path }).getCurrentCluster()?.skipTLSVerify).toBe(true);
  });

  const cases: Array<{ title: string; setup: () => { path: string; context?: string }; error: RegExp }> = [
    { title: 'missing file', setup: () => ({ path: join(dir, 'nope.yaml') }), error: /--cluster east: kubeconfig .*nope\.yaml: file not found/ },
    { title: 'a directory', setup: () => ({ path: dir }), error: /--cluster east: kubeconfig .*: is a directory/ },
    { title: 'empty file', setup: () => ({ path: file('empty.yaml', '  \n') }), error: /empty\.yaml: file is empty/ },
    { title: 'malformed YAML', setup: () => ({ path: file('bad.yaml', 'clusters: [\n  - name: x\n  nope: {') }), error: /bad\.yaml: is not valid YAML/ },
    { title: 'YAML that is not a kubeconfig', setup: () => ({ path: file('list.yaml', '- a\n- b\n') }), error: /list\.yaml: is not a kubeconfig/ },
    {
      title: 'cluster entry without server',
      setup: () => ({ path: file('noserver.yaml', kubeconfig({ current: 'one', clusters: [{ name: 'c1', cluster: {} }] })) }),
      error: /noserver\.yaml: is not a valid kubeconfig: clusters\[0\]\.cluster\.server is missing/,
    },
    {
      title: 'unknown context lists the available ones',
      setup: () => ({ path: file('ctx.yaml', kubeconfig({ current: 'one' })), context: 'three' }),
      error: /unknown context 'three' \(available: one, two\)/,
    },
    { title: 'no current context', setup: () => ({ path: file('nocur.yaml', kubeconfig({})) }), error: /no current-context set.*available: one, two/ },
    { title: 'current context undefined', setup: () => ({ path: file('badcur.yaml', kubeconfig({ current: 'gone' })) }), error: /current-context 'gone' is not defined/ },
    {
      title: 'context pointing at a missing cluster',
      setup: () => ({ path: file('nocl.yaml', kubeconfig({ current: 'one', contexts: [{ name: 'one', context: { cluster: 'c9', user: 'u1' } }] })) }),
      error: /context 'one' refers to cluster 'c9', which is not defined/,
    },
    {
      title: 'context pointing at a missing user',
      setup: () => ({ path: file('nouser.yaml', kubeconfig({ current: 'one', contexts: [{ name: 'one', context: { cluster: 'c1', user: 'u9' } }] })) }),
      error: /context 'one' refers to user 'u9', which is not defined/,
    },
    {
      title: 'missing client certificate file',
      setup: () => ({ path: file('nocert.yaml', kubeconfig({ current: 'one', users: [{ name: 'u1', user: { 'client-certificate': 'gone.crt', 'client-key': 'gone.key' } }] })) }),
      error: /user 'u1' client-certificate .*gone\.crt does not exist/,
    },
    {
      title: 'a credential plugin that is not on PATH',
      setup: () => ({
        path: file(
          'plugin.yaml',
          kubeconfig({ current: 'one', users: [{ name: 'u1', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'herald-test-no-such-auth-plugin' } } }] }),
        ),
      }),
      error: /user 'u1' gets its credentials from the plugin 'herald-test-no-such-auth-plugin', which is not on PATH/,
    },
    {
      title: 'a credential plugin path that is no executable',
      setup: () => ({
        path: file(
          'plugin-path.yaml',
          kubeconfig({ current: 'one', users: [{ name: 'u1', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: join(dir, 'missing-plugin') } } }] }),
        ),
      }),
      error: /the plugin '.*missing-plugin', which is not an executable file/,
    },
    {
      title: 'plain http without skip-tls-verify',
      setup: () => ({ path: file('http.yaml', kubeconfig({ current: 'one', clusters: [{ name: 'c1', cluster: { server: 'http://127.0.0.1:8080' } }] })) }),
      error: /uses plain http .*insecure-skip-tls-verify: true/,
    },
  ];
  for (const c of cases) {
    it(`fails fast: ${c.title}`, () => {
      const { path, context } = c.setup();
      const load = () => loadKubeConfig({ name: 'east', kubeconfigPath: path, ...(context ? { context } : {}) });
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(c.error);
    });
  }

  it('accepts a credential plugin found on PATH or by path', () => {
    const plugin = file('auth-plugin', '#!/bin/sh\necho {}\n');
    chmodSync(plugin, 0o755);
    const byPath = file('plugin-ok.yaml', kubeconfig({ current: 'one', users: [{ name: 'u1', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin } } }] }));
    expect(() => loadKubeConfig({ name: 'east', kubeconfigPath: byPath })).not.toThrow();
    expect(findExecutable('auth-plugin', ['/nonexistent', dir].join(delimiter))).toBe(plugin);
    expect(findExecutable('auth-plugin', '/nonexistent')).toBeUndefined();
  });

  it.skipIf(process.getuid?.() === 0)('unreadable file', () => {
    const path = file('secret.yaml', kubeconfig({ current: 'one' }));
    chmodSync(path, 0o000);
    expect(() => loadKubeConfig({ name: 'east', kubeconfigPath: path })).toThrow(/secret\.yaml: permission denied/);
  });
});

describe('inClusterConfig', () => {
  it('explains that we are not in a pod', () => {
    expect(() => inClusterConfig('local', { env: {} })).toThrow(/cluster local \(in-cluster\): not running in a Kubernetes pod/);
  });

  it('needs the service account token', () => {
    const prefix = join(dir, 'no-sa');
    expect(() => inClusterConfig('local', { env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, pathPrefix: prefix })).toThrow(
      /service account token .*token does not exist/,
    );
  });

  it('builds an https config from the service account', () => {
    const prefix = join(dir, 'pod');
    mkdirSync(join(prefix, SERVICE_ACCOUNT_DIR), { recursive: true });
    writeFileSync(join(prefix, SERVICE_ACCOUNT_DIR, 'token'), 'tok');
    writeFileSync(join(prefix, SERVICE_ACCOUNT_DIR, 'ca.crt'), 'ca');
    const kc = inClusterConfig('local', { env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, pathPrefix: prefix });
    expect(kc.getCurrentCluster()?.server).toBe('https://[fd00::1]:443');
    expect(kc.getCurrentCluster()?.caFile).toBe(join(prefix, SERVICE_ACCOUNT_DIR, 'ca.crt'));
  });
});

describe('FileKubeConfig: the files a rotation may change', () => {
  it('names the kubeconfig and every file its current context depends on', () => {
    file('ca.crt', 'ca');
    file('token', 'tok');
    const path = file(
      'files.yaml',
      kubeconfig({
        clusters: [{ name: 'c1', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority': 'ca.crt' } }],
        users: [
          // client-node reads a token-file relative to the working directory: absolute here.
          { name: 'u1', user: { 'token-file': join(dir, 'token') } },
          { name: 'u2', user: { token: 'inline' } },
        ],
        contexts: [
          { name: 'one', context: { cluster: 'c1', user: 'u1' } },
          { name: 'two', context: { cluster: 'c1', user: 'u2' } },
        ],
        current: 'two',
      }),
    );
    const table: [string | undefined, string[]][] = [
      [undefined, [path, join(dir, 'ca.crt')]],
      ['one', [path, join(dir, 'ca.crt'), join(dir, 'token')]],
    ];
    for (const [context, files] of table) {
      const kc = loadKubeConfig({ name: 'east', kubeconfigPath: path, ...(context ? { context } : {}) });
      expect(kc.credentialFiles().sort(), String(context)).toEqual(files.sort());
    }
  });

  it('reloads from the same file and context', () => {
    const path = file('reload.yaml', kubeconfig({ current: 'one' }));
    const kc = loadKubeConfig({ name: 'east', kubeconfigPath: path, context: 'two' });
    writeFileSync(path, kubeconfig({ current: 'one', clusters: [{ name: 'c1', cluster: { server: 'https://127.0.0.2:6443' } }] }));
    const next = kc.reload();
    expect([next.getCurrentContext(), next.getCurrentCluster()?.server]).toEqual(['two', 'https://127.0.0.2:6443']);
    writeFileSync(path, '');
    expect(() => kc.reload()).toThrow(ConfigError);
  });
});
