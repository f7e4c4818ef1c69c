import { describe, expect, it } from 'vitest';
import { parseAddress, resolveTarget } from '../../src/cli/status.js';

describe('herald status arguments', () => {
  it.each([
    ['127.0.0.1:18000', { host: '127.0.0.1', port: 18000 }],
    ['herald.herald.svc:9000', { host: 'herald.herald.svc', port: 9000 }],
    ['[::1]:18000', { host: '::1', port: 18000 }],
  ])('parseAddress(%s)', (value, expected) => {
    expect(parseAddress(value)).toEqual(expected);
  });

  it.each(['127.0.0.1', ':18000', '::1:18000', 'host:0', 'host:70000', 'a b:1'])('refuses %s', (value) => {
    expect(() => parseAddress(value)).toThrow(/--address/);
  });

  it('prefers --address, asks the admin page on the same host, and skips it with --admin-port 0', () => {
    expect(resolveTarget({ host: '127.0.0.1', xdsPort: 18000, adminPort: 18001 })).toEqual({
      xdsAddress: '127.0.0.1:18000',
      host: '127.0.0.1',
      admin: { host: '127.0.0.1', port: 18001 },
    });
    expect(resolveTarget({ address: '[::1]:9', host: '127.0.0.1', xdsPort: 18000, adminPort: 0 })).toEqual({ xdsAddress: '[::1]:9', host: '::1', admin: undefined });
    expect(() => resolveTarget({ host: '127.0.0.1', xdsPort: 0, adminPort: 1 })).toThrow(/--xds-port/);
    expect(() => resolveTarget({ host: 'bad host', xdsPort: 1, adminPort: 1 })).toThrow(/--host/);
  });
});
