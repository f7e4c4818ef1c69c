import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dumpYaml } from '@kubernetes/client-node';
import type { CommandModule } from 'yargs';
import { buildSidecarBootstrap, type BootstrapObject } from '../bootstrap/index.js';
import { ConfigError } from '../config/index.js';

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
        .option('lds', { type: 'boolean', default: true, describe: 'also take listeners over ADS' })
        .option('envoy-admin-port', { type: 'number', describe: "Envoy's admin port on 127.0.0.1 (omitted when not given)" })
        .option('egress-port', { type: 'number', describe: 'add an HTTP egress listener on 127.0.0.1 routing by Host to --egress-service clusters' })
        .option('egress-service', { type: 'string', array: true, describe: "a service the egress listener routes to, e.g. 'ledger.shop' (repeatable)" })
        .option('format', { type: 'string', choices: ['json', 'yaml'], default: 'json', describe: 'output format' })
        .option('output', { type: 'string', describe: 'write to this file instead of stdout' }),
    handler: (argv) => {
      const { host, port } = parseXdsAddress(String(argv['xdsAddress']));
      const egressPort = argv['egressPort'] as number | undefined;
      const egressServices = ((argv['egressService'] as string[] | undefined) ?? []).filter((name) => name !== '');
      if ((egressPort === undefined) !== (egressServices.length === 0)) {
        throw new ConfigError('--egress-port and --egress-service go together');
      }
      let bootstrap: BootstrapObject;
      try {
        bootstrap = buildSidecarBootstrap({
          service: String(argv['service']),
          nodeId: optionalString(argv['nodeId']) ?? defaultNodeId(process.env, hostname()),
          xdsHost: host,
          xdsPort: port,
          zone: optionalString(argv['zone']),
          region: optionalString(argv['region']),
          lds: argv['lds'] as boolean,
          adminPort: argv['envoyAdminPort'] as number | undefined,
          egress: egressPort === undefined ? undefined : { port: egressPort, services: egressServices },
        });
      } catch (error) {
        if (error instanceof RangeError) throw new ConfigError(error.message);
        throw error;
      }
      const text = formatBootstrap(bootstrap, argv['format'] === 'yaml' ? 'yaml' : 'json');
      const output = optionalString(argv['output']);
      if (output === undefined) process.stdout.write(text);
      else writeFileSync(output, text);
      setExitCode(0);
    },
  };
}
