import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServeConfig, ConfigError } from '../../src/config/index.js';

let dir: string;
let kubeconfig: string;
const notInPod = { inCluster: { env: {} } };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'herald-admin-access-'));
  kubeconfig = join(dir, 'east.yaml');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443' } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'ctx',
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const build = (flags: Record<string, unknown>) => buildServeConfig({ cluster: `east=${kubeconfig}`, ...flags }, notInPod);
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('--admin-token-file', () => {
  it('is off by default: only loopback callers are trusted', () => {
    expect(build({}).adminToken).toBeUndefined();
    expect(build({}).adminAllowedHosts).toEqual([]);
  });

  it('reads the token, without the trailing newline', () => {
    const path = file('token', 'abc-123_x.y~z+/==\n');
    expect(build({ adminTokenFile: path }).adminToken).toEqual({ path, token: 'abc-123_x.y~z+/==' });
  });

  it.each([
    ['a missing file', () => join(dir, 'absent'), /--admin-token-file: .*absent: file not found/],
    ['an empty file', () => file('empty', '\n  \n'), /--admin-token-file: .*empty: the file is empty/],
    ['a directory', () => dir, /--admin-token-file: .*is a directory/],
    ['a token no Bearer header can carry', () => file('spaced', 'two words'), /--admin-token-file: .*a bearer token is/],
  ])('refuses %s at start', (_what, path, message) => {
    expect(() => build({ adminTokenFile: path() })).toThrow(ConfigError);
    expect(() => build({ adminTokenFile: path() })).toThrow(message);
  });
});

describe('--admin-allowed-host', () => {
  it('takes host names, lower-cased, repeatable', () => {
    expect(build({ adminAllowedHost: ['Herald-Metrics.herald.svc', 'admin.example'] }).adminAllowedHosts).toEqual(['herald-metrics.herald.svc', 'admin.example']);
    expect(build({ adminAllowedHost: 'one.example' }).adminAllowedHosts).toEqual(['one.example']);
  });

  it.each([
    ['10.0.0.1', /every IP literal is accepted already/],
    ['bad name!', /is not an IP address or host name/],
    ['host:80', /is not an IP address or host name/],
  ])('refuses %s', (value, message) => {
    expect(() => build({ adminAllowedHost: [value] })).toThrow(message);
  });
});
