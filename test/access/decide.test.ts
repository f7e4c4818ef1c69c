import { describe, expect, it } from 'vitest';
import {
  accessGuard,
  addressOfPeer,
  allowedHostSet,
  bearerToken,
  decideAccess,
  isAllowedHost,
  isBearerToken,
  isLoopbackAddress,
  refusalMessage,
  type AccessDecision,
} from '../../src/access/index.js';

const TOKEN = 's3cr3t-Token_1';

describe('decideAccess', () => {
  const table: { title: string; loopbackPeer: boolean; authorization: string | undefined; token: string | undefined; expected: AccessDecision }[] = [
    { title: 'loopback, no credentials', loopbackPeer: true, authorization: undefined, token: undefined, expected: { allowed: true, via: 'loopback' } },
    { title: 'loopback, a wrong token (loopback is enough)', loopbackPeer: true, authorization: 'Bearer nope', token: TOKEN, expected: { allowed: true, via: 'loopback' } },
    { title: 'remote, the right token', loopbackPeer: false, authorization: `Bearer ${TOKEN}`, token: TOKEN, expected: { allowed: true, via: 'token' } },
    { title: 'remote, scheme in another case and extra spaces', loopbackPeer: false, authorization: `  bEaReR   ${TOKEN} `, token: TOKEN, expected: { allowed: true, via: 'token' } },
    { title: 'remote, no credentials', loopbackPeer: false, authorization: undefined, token: TOKEN, expected: { allowed: false, reason: 'no_credentials' } },
    { title: 'remote, an empty header', loopbackPeer: false, authorization: '  ', token: TOKEN, expected: { allowed: false, reason: 'no_credentials' } },
    { title: 'remote, Basic credentials', loopbackPeer: false, authorization: 'Basic dXNlcjpwYXNz', token: TOKEN, expected: { allowed: false, reason: 'malformed_credentials' } },
    { title: 'remote, Bearer without a token', loopbackPeer: false, authorization: 'Bearer', token: TOKEN, expected: { allowed: false, reason: 'malformed_credentials' } },
    { title: 'remote, two tokens', loopbackPeer: false, authorization: `Bearer ${TOKEN} ${TOKEN}`, token: TOKEN, expected: { allowed: false, reason: 'malformed_credentials' } },
    { title: 'remote, a wrong token', loopbackPeer: false, authorization: 'Bearer s3cr3t-Token_2', token: TOKEN, expected: { allowed: false, reason: 'bad_token' } },
    { title: 'remote, a prefix of the token', loopbackPeer: false, authorization: 'Bearer s3cr3t', token: TOKEN, expected: { allowed: false, reason: 'bad_token' } },
    { title: 'remote, the token in another case', loopbackPeer: false, authorization: `Bearer ${TOKEN.toUpperCase()}`, token: TOKEN, expected: { allowed: false, reason: 'bad_token' } },
    { title: 'remote, a token but none configured', loopbackPeer: false, authorization: `Bearer ${TOKEN}`, token: undefined, expected: { allowed: false, reason: 'bad_token' } },
    { title: 'remote, nothing configured, nothing sent', loopbackPeer: false, authorization: undefined, token: undefined, expected: { allowed: false, reason: 'no_credentials' } },
  ];
  it.each(table)('$title', ({ loopbackPeer, authorization, token, expected }) => {
    expect(decideAccess({ loopbackPeer, authorization, token })).toEqual(expected);
  });

  it('reads the token of a Bearer header only', () => {
    expect(bearerToken('Bearer abc.DEF-1~+/==')).toBe('abc.DEF-1~+/==');
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken('Token abc')).toBeUndefined();
  });

  it.each([
    ['abc-DEF_0.9~+/', true],
    ['padded==', true],
    ['two words', false],
    ['=leading', false],
    ['quote"', false],
    ['', false],
  ])('takes %j as a configurable token: %s', (token, expected) => {
    expect(isBearerToken(token)).toBe(expected);
  });

  it('tells a refused caller how to get in without ever echoing a token', () => {
    expect(refusalMessage('no_credentials')).toMatch(/port-forward/);
    expect(refusalMessage('no_credentials')).toMatch(/Bearer/);
    for (const reason of ['no_credentials', 'malformed_credentials', 'bad_token'] as const) expect(refusalMessage(reason)).not.toContain(TOKEN);
  });
});

describe('isLoopbackAddress', () => {
  const table: [string | undefined, boolean][] = [
    ['127.0.0.1', true],
    ['127.0.0.53', true],
    ['127.255.255.254', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:2', true],
    ['0:0:0:0:0:0:0:1', true],
    ['10.0.0.1', false],
    ['10.127.0.1', false],
    ['128.0.0.1', false],
    ['0.0.0.0', false],
    ['::', false],
    ['::2', false],
    ['::ffff:10.0.0.1', false],
    ['fe80::1', false],
    ['192.168.1.127', false],
    ['localhost', false],
    ['', false],
    [undefined, false],
  ];
  it.each(table)('%s → %s', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });
});

describe('addressOfPeer (grpc-js getPeer strings)', () => {
  const table: [string | undefined, string | undefined][] = [
    ['127.0.0.1:40522', '127.0.0.1'],
    ['10.1.2.3:443', '10.1.2.3'],
    // grpc-js writes IPv6 peers unbracketed; ::1 with port 5432 also parses as the address ::1:5432.
    ['::1:5432', '::1'],
    ['::ffff:127.0.0.1:1234', '::ffff:127.0.0.1'],
    ['[::1]:80', '::1'],
    ['[fe80::1]', 'fe80::1'],
    ['10.1.2.3', '10.1.2.3'],
    ['unknown', undefined],
    ['host.example:80', undefined],
    [undefined, undefined],
  ];
  it.each(table)('%s → %s', (peer, expected) => {
    expect(addressOfPeer(peer)).toBe(expected);
  });
});

describe('isAllowedHost', () => {
  const allowed = allowedHostSet(['herald-metrics.herald.svc', 'Admin.Example.']);
  const table: [string | undefined, boolean][] = [
    ['10.0.0.7:18001', true],
    ['10.0.0.7', true],
    ['127.0.0.1:18001', true],
    ['[::1]:18001', true],
    ['[fd00::7]', true],
    ['::1', true],
    ['localhost', true],
    ['localhost:18001', true],
    ['LOCALHOST.:18001', true],
    ['herald-metrics.herald.svc:18001', true],
    ['admin.example', true],
    ['ADMIN.EXAMPLE:8080', true],
    ['attacker.example', false],
    ['attacker.example:18001', false],
    ['localhost.attacker.example', false],
    ['127.0.0.1.nip.io', false],
    ['herald-metrics.herald.svc.attacker.example', false],
    ['[not-an-ip]:80', false],
    ['10.0.0.7:port', false],
    ['', false],
    [undefined, false],
  ];
  it.each(table)('%s → %s', (host, expected) => {
    expect(isAllowedHost(host, allowed)).toBe(expected);
  });

  it('accepts no extra name when none is configured', () => {
    expect(isAllowedHost('herald-metrics.herald.svc', allowedHostSet([]))).toBe(false);
  });
});

describe('accessGuard', () => {
  it('classifies the peer with the real loopback check unless one is injected', () => {
    const guard = accessGuard({ token: () => TOKEN });
    expect(guard.check({ peerAddress: '::ffff:127.0.0.1', authorization: undefined })).toEqual({ allowed: true, via: 'loopback' });
    expect(guard.check({ peerAddress: '10.0.0.9', authorization: undefined })).toEqual({ allowed: false, reason: 'no_credentials' });
    expect(guard.check({ peerAddress: '10.0.0.9', authorization: `Bearer ${TOKEN}` })).toEqual({ allowed: true, via: 'token' });
    const remoteOnly = accessGuard({ isLoopback: () => false });
    expect(remoteOnly.check({ peerAddress: '127.0.0.1', authorization: undefined })).toEqual({ allowed: false, reason: 'no_credentials' });
  });

  it('asks for the token at every check, so a rotated one applies at once', () => {
    let token = 'first';
    const guard = accessGuard({ token: () => token, isLoopback: () => false });
    expect(guard.check({ peerAddress: '10.0.0.9', authorization: 'Bearer first' }).allowed).toBe(true);
    token = 'second';
    expect(guard.check({ peerAddress: '10.0.0.9', authorization: 'Bearer first' })).toEqual({ allowed: false, reason: 'bad_token' });
    expect(guard.check({ peerAddress: '10.0.0.9', authorization: 'Bearer second' }).allowed).toBe(true);
  });
});
