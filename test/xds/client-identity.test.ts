import { describe, expect, it } from 'vitest';
import { checkClientClaim, identityOf, subjectAltNames, type ClientIdentityPolicy, type PeerCertificateFields } from '../../src/xds/index.js';

const spiffe = (id: string, cn = 'ignored'): PeerCertificateFields => ({ subject: { CN: cn }, subjectaltname: `DNS:web.shop.svc, URI:${id}` });
const cn = (name: string): PeerCertificateFields => ({ subject: { CN: name } });
const node = (id: string, metadata?: Record<string, string>) => ({ id, ...(metadata ? { heraldMetadata: metadata } : {}) });
const anyDomain: ClientIdentityPolicy = { trustDomains: new Map() };
const mapped: ClientIdentityPolicy = {
  trustDomains: new Map([
    ['east.example', 'east'],
    ['west.example', 'west'],
  ]),
};

describe('subjectAltNames', () => {
  it.each([
    { text: '', names: [] },
    { text: 'DNS:a.example', names: [{ type: 'DNS', value: 'a.example' }] },
    {
      text: 'DNS:a.example, URI:spiffe://td/ns/shop/sa/web, IP Address:127.0.0.1',
      names: [
        { type: 'DNS', value: 'a.example' },
        { type: 'URI', value: 'spiffe://td/ns/shop/sa/web' },
        { type: 'IP Address', value: '127.0.0.1' },
      ],
    },
    // Node quotes a value that could be misread: a comma inside it does not split the entry.
    {
      text: 'URI:"spiffe://td/ns/shop/sa/web, URI:spiffe://td/ns/admin/sa/x", DNS:b',
      names: [
        { type: 'URI', value: 'spiffe://td/ns/shop/sa/web, URI:spiffe://td/ns/admin/sa/x' },
        { type: 'DNS', value: 'b' },
      ],
    },
    {
      text: 'DNS:"a\\"b", DNS:c',
      names: [
        { type: 'DNS', value: 'a"b' },
        { type: 'DNS', value: 'c' },
      ],
    },
  ])('$text', ({ text, names }) => {
    expect(subjectAltNames(text)).toEqual(names);
  });
});

describe('identityOf', () => {
  it.each([
    { title: 'the first spiffe URI, not the CN', cert: spiffe('spiffe://td/ns/shop/sa/web'), identity: { kind: 'spiffe', trustDomain: 'td', namespace: 'shop', serviceAccount: 'web' } },
    {
      title: 'the first of two spiffe URIs',
      cert: { subjectaltname: 'URI:https://x, URI:spiffe://a/ns/one/sa/s, URI:spiffe://b/ns/two/sa/s' },
      identity: { kind: 'spiffe', trustDomain: 'a', namespace: 'one', serviceAccount: 's' },
    },
    { title: 'the CN without a spiffe URI', cert: { subject: { CN: 'envoy-1' }, subjectaltname: 'URI:https://x' }, identity: { kind: 'cn', cn: 'envoy-1' } },
    { title: 'a refusal for a spiffe ID of another shape', cert: spiffe('spiffe://td/workload/web', 'envoy-1'), identity: { reason: 'spiffe_id' } },
    { title: 'a refusal for a spiffe ID with an extra segment', cert: spiffe('spiffe://td/ns/shop/sa/web/x'), identity: { reason: 'spiffe_id' } },
    { title: 'a refusal for an upper-case trust domain', cert: spiffe('spiffe://TD/ns/shop/sa/web'), identity: { reason: 'spiffe_id' } },
    { title: 'a refusal for two CNs', cert: { subject: { CN: ['a', 'b'] } }, identity: { reason: 'no_identity' } },
    { title: 'a refusal for no CN', cert: { subject: {} }, identity: { reason: 'no_identity' } },
  ])('$title', ({ cert, identity }) => {
    expect(identityOf(cert)).toMatchObject(identity);
  });
});

describe('checkClientClaim', () => {
  it.each([
    { title: 'SPIFFE: NAME.NAMESPACE of its namespace', cert: spiffe('spiffe://td/ns/shop/sa/web'), node: node('web-7d9.shop'), policy: anyDomain, refused: undefined },
    { title: 'SPIFFE: a name with dots', cert: spiffe('spiffe://td/ns/shop/sa/web'), node: node('web.v2.shop'), policy: anyDomain, refused: undefined },
    { title: 'SPIFFE: metadata that agrees', cert: spiffe('spiffe://td/ns/shop/sa/web'), node: node('web.shop', { 'herald.io/namespace': 'shop' }), policy: anyDomain, refused: undefined },
    { title: 'SPIFFE: another namespace in the node id', cert: spiffe('spiffe://td/ns/shop/sa/web'), node: node('web.payments'), policy: anyDomain, refused: 'namespace' },
    {
      title: 'SPIFFE: another namespace in the metadata',
      cert: spiffe('spiffe://td/ns/shop/sa/web'),
      node: node('web.shop', { 'herald.io/namespace': 'payments' }),
      policy: anyDomain,
      refused: 'namespace',
    },
    { title: 'SPIFFE: a node id without a namespace', cert: spiffe('spiffe://td/ns/shop/sa/web'), node: node('web'), policy: anyDomain, refused: 'node_id' },
    { title: 'SPIFFE: a node id that is only the namespace', cert: spiffe('spiffe://td/ns/shop/sa/web'), node: node('.shop'), policy: anyDomain, refused: 'node_id' },
    { title: 'SPIFFE: a mapped trust domain', cert: spiffe('spiffe://east.example/ns/shop/sa/web'), node: node('web.shop'), policy: mapped, refused: undefined },
    {
      title: 'SPIFFE: the kube cluster its trust domain maps to',
      cert: spiffe('spiffe://east.example/ns/shop/sa/web'),
      node: node('web.shop', { 'herald.io/kube-cluster': 'east' }),
      policy: mapped,
      refused: undefined,
    },
    { title: 'SPIFFE: an unmapped trust domain', cert: spiffe('spiffe://rogue.example/ns/shop/sa/web'), node: node('web.shop'), policy: mapped, refused: 'trust_domain' },
    {
      title: 'SPIFFE: another kube cluster than its trust domain maps to',
      cert: spiffe('spiffe://east.example/ns/shop/sa/web'),
      node: node('web.shop', { 'herald.io/kube-cluster': 'west' }),
      policy: mapped,
      refused: 'kube_cluster',
    },
    {
      title: 'SPIFFE: any kube cluster when no trust domain is configured',
      cert: spiffe('spiffe://td/ns/shop/sa/web'),
      node: node('web.shop', { 'herald.io/kube-cluster': 'west' }),
      policy: anyDomain,
      refused: undefined,
    },
    { title: 'CN: the node id is the CN', cert: cn('envoy-1'), node: node('envoy-1'), policy: mapped, refused: undefined },
    { title: 'CN: another node id', cert: cn('envoy-1'), node: node('envoy-2'), policy: anyDomain, refused: 'node_id' },
    { title: 'CN: a node id that only starts with the CN', cert: cn('envoy-1'), node: node('envoy-1.shop'), policy: anyDomain, refused: 'node_id' },
    { title: 'no certificate', cert: undefined, node: node('envoy-1'), policy: anyDomain, refused: 'no_certificate' },
    { title: 'no node', cert: cn('envoy-1'), node: undefined, policy: anyDomain, refused: 'no_node' },
    { title: 'an unreadable SPIFFE ID', cert: spiffe('spiffe://td/x', 'envoy-1'), node: node('envoy-1'), policy: anyDomain, refused: 'spiffe_id' },
  ])('$title', ({ cert, node: claimed, policy, refused }) => {
    const result = checkClientClaim(cert, claimed, policy);
    expect(result?.reason).toBe(refused);
    if (result) expect(result.detail.length).toBeGreaterThan(0);
  });
});
