import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { dumpYaml } from '@kubernetes/client-node';
import type { CommandModule } from 'yargs';
import { buildSdsFiles, buildSidecarBootstrap, type BootstrapObject, type SidecarTlsOptions } from '../bootstrap/index.js';
import { ConfigError, validatePort } from '../config/index.js';

export const DEFAULT_XDS_ADDRESS = 'herald.herald.svc.cluster.local:18000';

/** `host[:port]`, port defaulting to Herald's xDS port. */
export function parseXdsAddress(value: string): { host: string; port: number } {
  const match = /^([^:\s]+)(?::(\d{1,5}))?$/.exec(value);
  if (!match) throw new ConfigError(`--xds-address: '${value}' is not HOST[:PORT]`);
  const port = match[2] === undefined ? 18000 : Number(match[2]);
  if (port < 1 || port > 65535) throw new ConfigError(`--xds-address: port ${port} is out of range`);
  return { host: match[1]!, port };
}

/**
 * The node id when --node-id is not given: POD_NAME.POD_NAMESPACE from the downward API (unique
 * in the cluster and readable in /debug/clients), else the host name.
 */
export function defaultNodeId(env: NodeJS.ProcessEnv, host: string): string {
  const pod = env['POD_NAME'];
  const namespace = env['POD_NAMESPACE'];
  if (pod) return namespace ? `${pod}.${namespace}` : pod;
  return host;
}

export function formatBootstrap(bootstrap: BootstrapObject, format: 'json' | 'yaml'): string {
  return format === 'yaml' ? dumpYaml(bootstrap, { noRefs: true, lineWidth: -1 }) : `${JSON.stringify(bootstrap, null, 2)}\n`;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A port flag's value (text as typed, so 'abc' is reported as such), or undefined when not given. */
function optionalPort(flag: string, value: unknown): number | undefined {
  return value === undefined || value === '' ? undefined : validatePort(flag, value, { allowZero: false });
}

/**
 * The TLS options from --tls-* and --sds-dir, or undefined for plaintext. The SDS files go next
 * to the bootstrap unless --sds-dir says otherwise: both are read by the same Envoy.
 */
export function tlsFromFlags(argv: Record<string, unknown>, format: 'json' | 'yaml'): SidecarTlsOptions | undefined {
  const caFile = optionalString(argv['tlsCa']);
  const certFile = optionalString(argv['tlsCert']);
  const keyFile = optionalString(argv['tlsKey']);
  const sdsDirFlag = optionalString(argv['sdsDir']);
  if (caFile === undefined) {
    if (certFile !== undefined || keyFile !== undefined) throw new ConfigError("--tls-cert/--tls-key: need --tls-ca as well (Envoy must verify Herald's certificate)");
    if (sdsDirFlag !== undefined) throw new ConfigError('--sds-dir: only used with --tls-ca');
    return undefined;
  }
  if ((certFile === undefined) !== (keyFile === undefined)) throw new ConfigError('--tls-cert and --tls-key go together');
  for (const [flag, file] of [
    ['--tls-ca', caFile],
    ['--tls-cert', certFile],
    ['--tls-key', keyFile],
    ['--sds-dir', sdsDirFlag],
  ] as const) {
    // Envoy resolves a relative path from its own working directory, not the init container's.
    if (file !== undefined && !path.posix.isAbsolute(file)) throw new ConfigError(`${flag}: '${file}' is not an absolute path`);
  }
  const file = optionalString(argv['file']);
  const sdsDir = sdsDirFlag ?? (file === undefined ? undefined : path.dirname(path.resolve(file)));
  if (sdsDir === undefined) throw new ConfigError('--sds-dir: needed with --tls-ca when the bootstrap goes to stdout');
  return { caFile, certFile, keyFile, sdsDir, sdsFormat: format };
}

/** Write-then-rename, so an Envoy watching the directory never reads half a file. */
function writeAtomically(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(temp, text);
  renameSync(temp, file);
}

export function bootstrapCommand(setExitCode: (code: number) => void): CommandModule {
  return {
    command: 'bootstrap',
    describe: 'Print an Envoy sidecar bootstrap that takes clusters and endpoints from Herald over ADS',
    builder: (args) =>
      args
        .option('service', { type: 'string', demandOption: true, describe: "service this Envoy fronts, as Herald names it: '<app label>.<namespace>' (node.cluster)" })
        .option('xds-address', { type: 'string', default: DEFAULT_XDS_ADDRESS, describe: "Herald's headless Service DNS name, HOST[:PORT]" })
        .option('node-id', { type: 'string', describe: 'Envoy node id (default: $POD_NAME.$POD_NAMESPACE, else the host name)' })
        .option('zone', { type: 'string', describe: 'node.locality.zone' })
        .option('region', { type: 'string', describe: 'node.locality.region' })
        .option('kube-cluster', { type: 'string', describe: "node metadata herald.io/kube-cluster: the kube cluster this pod runs in, as Herald's --cluster names it" })
        .option('namespace', { type: 'string', describe: 'node metadata herald.io/namespace (default: $POD_NAMESPACE; omitted when neither is set)' })
        .option('lds', { type: 'boolean', default: true, describe: 'also take listeners over ADS' })
        .option('envoy-admin-port', { type: 'string', describe: "Envoy's admin port on 127.0.0.1 (omitted when not given)" })
        .option('readiness-port', {
          type: 'string',
          describe: "a listener on 0.0.0.0 answering only GET /ready from Envoy's admin /ready (200 once Envoy is LIVE with its config); needs --envoy-admin-port; off when not given",
        })
        .option('egress-service', {
          type: 'string',
          array: true,
          describe: "a service the application calls, e.g. 'ledger.pay' (repeatable or comma-separated): node metadata herald.io/dependencies, so Herald sends only these",
        })
        .option('egress-port', { type: 'string', describe: 'add an HTTP egress listener on 127.0.0.1 whose routes to the --egress-service services come from Herald over RDS' })
        .option('tls-ca', { type: 'string', describe: "TLS to Herald: PEM CA bundle that signed Herald's certificate, path as the sidecar sees it" })
        .option('tls-cert', { type: 'string', describe: "mTLS: the sidecar's PEM certificate (with --tls-key; required when Herald runs with --tls-ca)" })
        .option('tls-key', { type: 'string', describe: "mTLS: the sidecar's PEM private key, in the directory of --tls-cert" })
        .option('sds-dir', { type: 'string', describe: 'where to write the SDS files Envoy reads the TLS files through (default: the directory of --file)' })
        .option('output', { alias: 'o', type: 'string', choices: ['json', 'yaml'], default: 'json', describe: 'output format (also of the SDS files)' })
        .option('file', { type: 'string', describe: 'write the bootstrap to this file instead of stdout' }),
    handler: (argv) => {
      const { host, port } = parseXdsAddress(String(argv['xdsAddress']));
      const egressPort = optionalPort('--egress-port', argv['egressPort']);
      const egressFlags = argv['egressService'] as string[] | undefined;
      const dependencies =
        egressFlags === undefined
          ? undefined
          : egressFlags
              .flatMap((value) => String(value).split(','))
              .map((name) => name.trim())
              .filter((name) => name !== '');
      if (egressPort !== undefined && !dependencies?.length) {
        throw new ConfigError('--egress-port: name the services the listener routes to with --egress-service');
      }
      const readinessPort = optionalPort('--readiness-port', argv['readinessPort']);
      const adminPort = optionalPort('--envoy-admin-port', argv['envoyAdminPort']);
      if (readinessPort !== undefined && adminPort === undefined) {
        throw new ConfigError("--readiness-port: needs --envoy-admin-port (the readiness listener forwards GET /ready to Envoy's admin)");
      }
      const format = argv['output'] === 'yaml' ? 'yaml' : 'json';
      const tls = tlsFromFlags(argv as Record<string, unknown>, format);
      let bootstrap: BootstrapObject;
      try {
        bootstrap = buildSidecarBootstrap({
          service: String(argv['service']),
          nodeId: optionalString(argv['nodeId']) ?? defaultNodeId(process.env, hostname()),
          xdsHost: host,
          xdsPort: port,
          zone: optionalString(argv['zone']),
          region: optionalString(argv['region']),
          kubeCluster: optionalString(argv['kubeCluster']),
          namespace: optionalString(argv['namespace']) ?? optionalString(process.env['POD_NAMESPACE']),
          lds: argv['lds'] as boolean,
          adminPort,
          readinessPort,
          ...(dependencies !== undefined ? { dependencies } : {}),
          ...(egressPort !== undefined ? { egressPort } : {}),
          tls,
        });
      } catch (error) {
        if (error instanceof RangeError) throw new ConfigError(error.message);
        throw error;
      }
      // Envoy fails to start when an SDS file it names is missing: they go first.
      for (const file of tls ? buildSdsFiles(tls) : []) writeAtomically(file.path, formatBootstrap(file.content, format));
      const text = formatBootstrap(bootstrap, format);
      const file = optionalString(argv['file']);
      if (file === undefined) process.stdout.write(text);
      else writeFileSync(file, text);
      setExitCode(0);
    },
  };
}
