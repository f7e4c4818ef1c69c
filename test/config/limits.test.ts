import { describe, expect, it } from 'vitest';
import { buildLimits, limitOptions, validateBytes } from '../../src/config/index.js';
import { DEFAULT_XDS_LIMITS, LIMIT_FLAGS } from '../../src/xds/index.js';

describe('xDS limit flags', () => {
  it('keep the defaults when no flag is given', () => {
    expect(buildLimits({})).toEqual(DEFAULT_XDS_LIMITS);
  });

  it('offer one option per limit, each saying its default', () => {
    const options = limitOptions();
    expect(options.map((o) => `--${o.name}`).sort()).toEqual(Object.values(LIMIT_FLAGS).sort());
    expect(options.find((o) => o.name === 'max-node-bytes')?.describe).toContain('default 64KiB');
    expect(options.find((o) => o.name === 'idle-connection-timeout')?.describe).toContain('default 5m');
  });

  it.each([
    { raw: { maxNamesPerStream: '40000' }, key: 'maxNamesPerStream', value: 40_000 },
    { raw: { maxNodeBytes: '128KiB' }, key: 'maxNodeBytes', value: 131_072 },
    { raw: { maxRequestBytes: 2_000_000 }, key: 'maxRequestBytes', value: 2_000_000 },
    { raw: { maxUnsentBytesPerStream: '8MiB' }, key: 'maxUnsentBytesPerStream', value: 8 * 1024 * 1024 },
    { raw: { handshakeTimeout: '5s' }, key: 'handshakeTimeoutMs', value: 5_000 },
    { raw: { idleConnectionTimeout: '1m30s' }, key: 'idleConnectionTimeoutMs', value: 90_000 },
    { raw: { requestReadTimeout: '750ms' }, key: 'requestReadTimeoutMs', value: 750 },
  ])('take $raw', ({ raw, key, value }) => {
    expect(buildLimits(raw)).toEqual({ ...DEFAULT_XDS_LIMITS, [key]: value });
  });

  it.each([
    { raw: { maxNamesPerStream: '0' }, error: /--max-names-per-stream: '0' is not a whole number of at least 1/ },
    { raw: { maxConnections: 'many' }, error: /--max-connections: 'many'/ },
    { raw: { maxNodeBytes: '64 parsecs' }, error: /--max-node-bytes: '64 parsecs' is not a size/ },
    { raw: { handshakeTimeout: '10' }, error: /--handshake-timeout: '10' needs a unit/ },
    { raw: { idleConnectionTimeout: '0' }, error: /--idle-connection-timeout: must be greater than zero/ },
  ])('refuse $raw naming the flag', ({ raw, error }) => {
    expect(() => buildLimits(raw)).toThrow(error);
  });

  it.each([
    ['1', 1],
    ['64KiB', 65_536],
    ['2MB', 2_000_000],
    ['1gib', 1024 ** 3],
  ])('read the size %s', (text, bytes) => {
    expect(validateBytes('--x', text)).toBe(bytes);
  });
});
