import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { CommandModule } from 'yargs';
import { ConfigError, validateDuration, validateHost, validatePort } from '../config/index.js';
import { loadEnvoyProtos } from '../resources/index.js';
import { collectStatus, fetchAdminJson, formatJson, formatPoliciesJson, formatPoliciesTable, formatTable, parsePolicies, StatusError } from '../status/index.js';

export interface StatusTarget {
  /** host:port for gRPC (IPv6 in brackets). */
  xdsAddress: string;
  host: string;
  admin: { host: string; port: number } | undefined;
}

/** `HOST:PORT` or `[V6]:PORT`. */
export function parseAddress(value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(value.trim());
  if (!match) throw new ConfigError(`--address: '${value}' is not HOST:PORT (IPv6 as [ADDR]:PORT)`);
  const host = match[1] ?? match[2]!;
  return { host, port: validatePort('--address', match[3], { allowZero: false }) };
}

/** --address wins over --host/--xds-port; the admin page is asked on the same host unless --admin-port is 0. */
export function resolveTarget(args: { address?: string | undefined; host: string; xdsPort: unknown; adminPort: unknown }): StatusTarget {
  let host: string;
  let port: number;
  if (args.address !== undefined && args.address !== '') {
    ({ host, port } = parseAddress(args.address));
  } else {
    host = validateHost('--host', args.host);
    port = validatePort('--xds-port', args.xdsPort, { allowZero: false });
  }
  const adminPort = validatePort('--admin-port', args.adminPort);
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return { xdsAddress: `${bracketed}:${port}`, host, admin: adminPort === 0 ? undefined : { host, port: adminPort } };
}

function channelCredentials(argv: Record<string, unknown>): grpc.ChannelCredentials | undefined {
  const ca = argv['tlsCa'] as string | undefined;
  const cert = argv['tlsCert'] as string | undefined;
  const key = argv['tlsKey'] as string | undefined;
  if (!ca && !cert && !key) return undefined;
  if ((cert === undefined) !== (key === undefined)) throw new ConfigError('--tls-cert and --tls-key go together');
  const read = (flag: string, path: string | undefined): Buffer | null => {
    if (path === undefined) return null;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(`${flag}: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return grpc.credentials.createSsl(read('--tls-ca', ca), read('--tls-key', key), read('--tls-cert', cert));
}

/** The token in --token-file (HERALD_TOKEN_FILE), or undefined when none is given. */
export function readToken(path: unknown): string | undefined {
  if (path === undefined || path === '') return undefined;
  if (typeof path !== 'string') throw new ConfigError('--token-file: give one file path');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`--token-file: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const token = text.trim();
  if (token === '') throw new ConfigError(`--token-file: ${path} is empty`);
  return token;
}

export function statusCommand(setExitCode: (code: number) => void): CommandModule {
  return {
    command: 'status [view]',
    describe: 'Show every xDS client connected to a running Herald and whether it is in sync (CSDS), or (status policies) each service’s effective ServicePolicy',
    builder: (args) =>
      args
        .positional('view', {
          type: 'string',
          choices: ['clients', 'policies'],
          default: 'clients',
          describe:
            'clients: xDS clients and their sync state (CSDS); policies: per service, each ServicePolicy section in effect and where it came from, rejections and conflicts (admin port)',
        })
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'host of the Herald to ask' })
        .option('xds-port', { type: 'string', default: '18000', describe: "Herald's xDS port (CSDS is served there)" })
        .option('address', { type: 'string', describe: 'HOST:PORT of the xDS port; overrides --host and --xds-port' })
        .option('admin-port', { type: 'string', default: '18001', describe: "Herald's admin port, for connection times (0: do not ask)" })
        .option('output', { alias: 'o', type: 'string', choices: ['table', 'json'], default: 'table', describe: 'output format' })
        .option('timeout', { type: 'string', default: '5s', describe: 'give up after this long' })
        .option('tls-ca', { type: 'string', describe: 'PEM CA bundle to verify a TLS xDS port' })
        .option('tls-cert', { type: 'string', describe: 'PEM client certificate, when Herald requires one' })
        .option('tls-key', { type: 'string', describe: 'PEM key of --tls-cert' })
        .option('token-file', {
          type: 'string',
          describe: "file holding Herald's admin token (its --admin-token-file), for a Herald reached other than over loopback",
        }),
    handler: async (argv) => {
      const target = resolveTarget({
        address: argv['address'] as string | undefined,
        host: String(argv['host']),
        xdsPort: argv['xdsPort'],
        adminPort: argv['adminPort'],
      });
      const timeoutMs = validateDuration('--timeout', argv['timeout'], { allowZero: false });
      const credentials = channelCredentials(argv as Record<string, unknown>);
      const token = readToken(argv['tokenFile']);
      if (argv['view'] === 'policies') return showPolicies(target, timeoutMs, token, argv['output'] === 'json', setExitCode);
      try {
        const report = await collectStatus({ xdsAddress: target.xdsAddress, admin: target.admin, protos: loadEnvoyProtos(), timeoutMs, credentials, token });
        for (const warning of report.warnings) process.stderr.write(`herald status: warning: ${warning}\n`);
        process.stdout.write(argv['output'] === 'json' ? formatJson(report.rows) : formatTable(report.rows, Date.now()));
        setExitCode(0);
      } catch (err) {
        if (!(err instanceof StatusError)) throw err;
        process.stderr.write(`herald status: error: ${err.message}\n`);
        setExitCode(1);
      }
    },
  };
}

async function showPolicies(target: StatusTarget, timeoutMs: number, token: string | undefined, json: boolean, setExitCode: (code: number) => void): Promise<void> {
  if (target.admin === undefined) throw new ConfigError('--admin-port: status policies reads the admin port; it cannot be 0');
  try {
    const report = parsePolicies(await fetchAdminJson(target.admin.host, target.admin.port, '/debug/policies', timeoutMs, token));
    process.stdout.write(json ? formatPoliciesJson(report) : formatPoliciesTable(report));
    setExitCode(0);
  } catch (err) {
    process.stderr.write(`herald status: error: ${err instanceof Error ? err.message : String(err)}\n`);
    setExitCode(1);
  }
}
