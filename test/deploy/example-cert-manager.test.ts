import { describe, expect, it } from 'vitest';
import { DEFAULT_XDS_ADDRESS, parseXdsAddress } from '../../src/cli/bootstrap.js';
import { findOne, renderDeploy } from './kustomize.js';

type Obj = Record<string, any>;

const objects = renderDeploy('examples/cert-manager') as Obj[];
const base = renderDeploy('base') as Obj[];
const find = findOne<Obj>;
const heraldCert = () => find(objects, 'Certificate', 'herald-tls');

describe('deploy/examples/cert-manager', () => {
  it('holds only cert-manager objects', () => {
    expect(objects.map((o) => `${o.apiVersion} ${o.kind}`).sort()).toEqual(
      ['cert-manager.io/v1 Certificate', 'cert-manager.io/v1 Certificate', 'cert-manager.io/v1 Certificate', 'cert-manager.io/v1 ClusterIssuer', 'cert-manager.io/v1 ClusterIssuer'].sort(),
    );
  });

  it('issues the Secret the Deployment mounts, in its namespace', () => {
    const deployment = find(base, 'Deployment', 'herald');
    const volume = deployment.spec.template.spec.volumes.find((v: Obj) => v.name === 'tls');
    expect(heraldCert().spec.secretName).toBe(volume.secret.secretName);
    expect(heraldCert().metadata.namespace).toBe(deployment.metadata.namespace);
  });

  it('names every form of the headless Service, the default --xds-address of `herald bootstrap` included', () => {
    const service = find(base, 'Service', 'herald');
    const { name, namespace } = service.metadata;
    expect(service.spec.clusterIP).toBe('None');
    const names = heraldCert().spec.dnsNames as string[];
    expect(names).toEqual([name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`, 'localhost']);
    // What `herald status` dials through kubectl port-forward.
    expect(heraldCert().spec.ipAddresses).toEqual(['127.0.0.1']);
    expect(names).toContain(parseXdsAddress(DEFAULT_XDS_ADDRESS).host);
    expect(heraldCert().spec.usages).toContain('server auth');
  });

  it('gives operators a client certificate of the same CA for `herald status`', () => {
    const operator = find(objects, 'Certificate', 'herald-operator');
    expect(operator.spec.usages).toContain('client auth');
    expect(operator.spec.usages).not.toContain('server auth');
    expect(operator.spec.issuerRef).toEqual(heraldCert().spec.issuerRef);
  });

  it('chains Herald’s certificate to a CA issuer whose key pair is a CA certificate it makes', () => {
    const issuer = find(objects, 'ClusterIssuer', heraldCert().spec.issuerRef.name);
    expect(heraldCert().spec.issuerRef.kind).toBe('ClusterIssuer');
    // A ClusterIssuer of type CA reads its Secret from cert-manager's own namespace.
    const ca = objects.find((o) => o.kind === 'Certificate' && o.spec.secretName === issuer.spec.ca.secretName)!;
    expect(ca.metadata.namespace).toBe('cert-manager');
    expect(ca.spec.isCA).toBe(true);
    expect(find(objects, 'ClusterIssuer', ca.spec.issuerRef.name).spec.selfSigned).toEqual({});
  });
});
