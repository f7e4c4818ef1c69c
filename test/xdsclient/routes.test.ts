import { describe, expect, it } from 'vitest';
import { matchVirtualHost, type RouteTable } from '../../src/xdsclient/index.js';

const table: RouteTable = {
  name: 'r',
  virtualHosts: [
    { name: 'exact', domains: ['api.shop', 'api.shop:*'], cluster: 'api' },
    { name: 'suffix', domains: ['*.shop'], cluster: 'any-shop' },
    { name: 'longer-suffix', domains: ['*.pay.shop'], cluster: 'pay' },
    { name: 'prefix', domains: ['web*'], cluster: 'web' },
    { name: 'fallback', domains: ['*'], cluster: 'default' },
  ],
};

describe('matchVirtualHost (Envoy domain order)', () => {
  it.each([
    ['api.shop', 'exact'],
    ['API.Shop', 'exact'],
    ['api.shop:8080', 'exact'],
    ['ledger.pay.shop', 'longer-suffix'],
    ['cart.shop', 'suffix'],
    ['webapp', 'prefix'],
    ['web.shop', 'suffix'],
    ['elsewhere', 'fallback'],
  ])('%s → %s', (host, want) => {
    expect(matchVirtualHost(table, host)?.name).toBe(want);
  });

  it('matches nothing without a catch-all', () => {
    expect(matchVirtualHost({ name: 'r', virtualHosts: [table.virtualHosts[0]!] }, 'other')).toBeUndefined();
  });
});
