import { describe, expect, it } from 'vitest';
import { IpPool, formatIpv4, parseIpv4 } from '../../../src/sources/sim/index.js';

describe('IpPool', () => {
  it('hands out sequential addresses after the base, across octet boundaries', () => {
    const pool = new IpPool('10.1.0.253');
    const none = () => false;
    expect([pool.allocate(none), pool.allocate(none), pool.allocate(none), pool.allocate(none)]).toEqual(['10.1.0.254', '10.1.0.255', '10.1.1.0', '10.1.1.1']);
  });

  it('comes round only after wrapping, and skips addresses still in use', () => {
    const pool = new IpPool('10.0.0.0', 3);
    const used = new Set<string>();
    const take = () => {
      const ip = pool.allocate((x) => used.has(x));
      used.add(ip);
      return ip;
    };
    expect([take(), take()]).toEqual(['10.0.0.1', '10.0.0.2']);
    used.delete('10.0.0.1');
    expect(take()).toBe('10.0.0.3'); // not the freed .1: no reuse before wrapping
    expect(take()).toBe('10.0.0.1'); // wrapped; .2 and .3 are still taken
    expect(() => take()).toThrow(/exhausted/);
  });

  it('parses and formats dotted quads', () => {
    expect(parseIpv4('192.168.1.2')).toBe(0xc0a80102);
    expect(formatIpv4(0xc0a80102)).toBe('192.168.1.2');
    for (const bad of ['10.0.0', '10.0.0.256', 'a.b.c.d', '10.0.0.-1']) expect(() => parseIpv4(bad)).toThrow();
  });
});
