import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAllYaml, loadYaml, KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { defaultKubeconfigPath } from '../../src/cli/remote-secret.js';
import { DEFAULT_READER, readerBinding, readerServiceAccount, remoteKubeconfig, remoteSecretManifest } from '../../src/remote/index.js';
import { DEPLOY_DIR } from '../deploy/kustomize.js';

type Obj = Record<string, any>;

describe('remote reader objects', () => {
  it('binds the reader to the shipped ClusterRole and nothing else', () => {
    const shipped = loadYaml<Obj>(readFileSync(join(DEPLOY_DIR, 'rbac', 'clusterrole.yaml'), 'utf8'));
    const binding = readerBinding(DEFAULT_READER) as Obj;
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: shipped.metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'herald-reader', namespace: 'herald' }]);
    expect(readerServiceAccount(DEFAULT_READER).metadata).toMatchObject({ name: 'herald-reader', namespace: 'herald' });
  });

  it('writes a kubeconfig client-node loads, with the token and CA it was given', () => {
    const text = remoteKubeconfig({ cluster: 'cluster-b', server: 'https://b.example:6443', caDataBase64: 'Q0E=', token: 'tok', user: 'herald-reader' });
    const kc = new KubeConfig();
    kc.loadFromString(text);
    expect(kc.getCurrentContext()).toBe('cluster-b');
    expect(kc.getCurrentCluster()).toMatchObject({ server: 'https://b.example:6443', caData: 'Q0E=' });
    expect(kc.getCurrentUser()).toMatchObject({ name: 'herald-reader', token: 'tok' });
  });

  it('prints one Secret whose only key is <cluster>.kubeconfig', () => {
    const manifest = remoteSecretManifest({
      cluster: 'cluster-b',
      kubeconfig: 'apiVersion: v1\n',
      secretName: 'herald-kubeconfigs',
      secretNamespace: 'herald',
      expiresAt: '2027-01-01T00:00:00.000Z',
      reader: DEFAULT_READER,
    });
    const objects = loadAllYaml(manifest) as Obj[];
    expect(objects).toHaveLength(1);
    expect(objects[0]!.metadata).toMatchObject({ name: 'herald-kubeconfigs', namespace: 'herald' });
    expect(Object.keys(objects[0]!.data)).toEqual(['cluster-b.kubeconfig']);
    expect(Buffer.from(objects[0]!.data['cluster-b.kubeconfig'], 'base64').toString()).toBe('apiVersion: v1\n');
    expect(manifest).toMatch(/expires at 2027-01-01/);
  });
});

describe('defaultKubeconfigPath', () => {
  const table: [string, NodeJS.ProcessEnv, string][] = [
    ['no KUBECONFIG', {}, '/home/u/.kube/config'],
    ['one file', { KUBECONFIG: '/a' }, '/a'],
    ['a list: the first', { KUBECONFIG: '/a:/b' }, '/a'],
    ['empty entries skipped', { KUBECONFIG: ':/b' }, '/b'],
  ];
  it.each(table)('%s', (_name, env, want) => expect(defaultKubeconfigPath(env, '/home/u')).toBe(want));
});
