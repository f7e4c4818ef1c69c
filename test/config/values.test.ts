import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  validateDuration,
  validateHost,
  validateLabelKey,
  validateLogLevel,
  validateNamespace,
  validatePort,
  validatePortName,
  validateServiceScope,
} from '../../src/config/index.js';

type Case = { value: unknown; want?: unknown; error?: RegExp };

function table(title: string, fn: (value: unknown) => unknown, cases: Case[]) {
  describe(title, () => {
    for (const c of cases) {
      it(`${JSON.stringify(c.value)} -> ${c.error ? 'error' : JSON.stringify(c.want)}`, () => {
        if (c.error) {
          expect(() => fn(c.value)).toThrow(ConfigError);
          expect(() => fn(c.value)).toThrow(c.error);
        } else {
          expect(fn(c.value)).toEqual(c.want);
        }
      });
    }
  });
}

table('validatePort', (v) => validatePort('--xds-port', v), [
  { value: 18000, want: 18000 },
  { value: '443', want: 443 },
  { value: 0, want: 0 },
  { value: 65535, want: 65535 },
  { value: 65536, error: /--xds-port: '65536' is not a port/ },
  { value: -1, error: /--xds-port/ },
  { value: 80.5, error: /--xds-port/ },
  { value: 'http', error: /--xds-port: 'http'/ },
  { value: Number.NaN, error: /--xds-port/ },
]);

table('validatePort without zero', (v) => validatePort('--default-port', v, { allowZero: false }), [
  { value: 1, want: 1 },
  { value: 0, error: /--default-port: '0' is not a port \(an integer 1\.\.65535\)/ },
]);

table('validateDuration', (v) => validateDuration('--initial-sync-timeout', v), [
  { value: '30s', want: 30_000 },
  { value: '250ms', want: 250 },
  { value: '1m30s', want: 90_000 },
  { value: '1h', want: 3_600_000 },
  { value: '1.5s', want: 1500 },
  { value: '0', want: 0 },
  { value: 1200, want: 1200 },
  { value: '30', error: /--initial-sync-timeout: '30' needs a unit/ },
  { value: '30 s', error: /is not a duration/ },
  { value: '-1s', error: /is not a duration/ },
  { value: 'soon', error: /--initial-sync-timeout: 'soon' is not a duration/ },
  { value: -5, error: /is not a duration/ },
  { value: true, error: /is not a duration/ },
]);

table('validateDuration without zero', (v) => validateDuration('--max-connection-age', v, { allowZero: false }), [
  { value: '0s', error: /--max-connection-age: must be greater than zero/ },
  { value: '5m', want: 300_000 },
]);

table('validateLabelKey', (v) => validateLabelKey('--service-label', v), [
  { value: 'app', want: 'app' },
  { value: 'app.kubernetes.io/name', want: 'app.kubernetes.io/name' },
  { value: 'My_Label.x', want: 'My_Label.x' },
  { value: '', error: /--service-label: '' is not a valid label key: empty/ },
  { value: 'Bad.Prefix/name', error: /prefix 'Bad.Prefix' is not a DNS subdomain/ },
  { value: 'a/b/c', error: /is not a valid label key/ },
  { value: '-app', error: /is not a valid label key/ },
  { value: 'x'.repeat(64), error: /is not a valid label key/ },
  { value: 'app ', error: /is not a valid label key/ },
]);

table('validatePortName', (v) => validatePortName('--port-name', v), [
  { value: 'http', want: 'http' },
  { value: 'grpc-web', want: 'grpc-web' },
  { value: 'HTTP', error: /--port-name: 'HTTP' is not a port name/ },
  { value: '8080', error: /is not a port name/ },
  { value: 'a--b', error: /is not a port name/ },
  { value: 'a'.repeat(16), error: /is not a port name/ },
  { value: '-http', error: /is not a port name/ },
]);

table('validateHost', (v) => validateHost('--xds-host', v), [
  { value: '0.0.0.0', want: '0.0.0.0' },
  { value: '::', want: '::' },
  { value: 'localhost', want: 'localhost' },
  { value: 'not a host', error: /--xds-host: 'not a host' is not an IP address or host name/ },
  { value: '', error: /--xds-host/ },
]);

table('validateLogLevel', (v) => validateLogLevel('--log-level', v), [
  { value: 'debug', want: 'debug' },
  { value: 'verbose', error: /--log-level: 'verbose' is not a log level/ },
]);

table('validateNamespace', (v) => validateNamespace('--namespace', v), [
  { value: 'shop', want: 'shop' },
  { value: 'team-a2', want: 'team-a2' },
  { value: '0', want: '0' },
  { value: `n${'s'.repeat(61)}x`, want: `n${'s'.repeat(61)}x` },
  { value: 'n'.repeat(64), error: /--namespace: 'n{64}' is not a namespace name/ },
  { value: 'a.b', error: /--namespace: 'a\.b' is not a namespace name/ },
  { value: 'Shop', error: /--namespace: 'Shop'/ },
  { value: 'my_ns', error: /--namespace: 'my_ns'/ },
  { value: '-shop', error: /--namespace: '-shop'/ },
  { value: '', error: /--namespace: ''/ },
  { value: 7, error: /--namespace: '7'/ },
]);

table('validateServiceScope', (v) => validateServiceScope('--service-scope', v), [
  { value: 'namespace', want: 'namespace' },
  { value: 'mesh', want: 'mesh' },
  { value: 'Mesh', error: /--service-scope: 'Mesh' is not a service scope \(namespace or mesh\)/ },
  { value: '', error: /--service-scope: ''/ },
]);
