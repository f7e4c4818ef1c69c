// The Envoy bootstrap a sidecar needs to take its clusters and endpoints from Herald.
//
// The xDS cluster is STRICT_DNS on the headless Service name: Envoy resolves every Herald
// replica's IP and load-balances its one ADS stream over them, and when a replica goes away
// (SIGTERM, rollout) the stream reconnects to another address from the same DNS answer.
// Envoy does not expand environment variables inside a bootstrap file, so node identity is
// resolved when the file is written (an init container runs `herald bootstrap` with the pod's
// downward-API env) rather than left as placeholders.
import { checkTlsOptions, xdsTransportSocket, type SidecarTlsOptions } from './tls.js';

/** The name of the static cluster that carries ADS; generated clusters must not use it. */
export const XDS_CLUSTER_NAME = 'herald_xds';

export interface SidecarBootstrapOptions {
  /** The service this Envoy fronts; becomes node.cluster. */
  service: string;
  /** Node id, unique per Envoy: usually POD_NAME.POD_NAMESPACE. */
  nodeId: string;
  /** DNS name of Herald's headless Service, e.g. herald.herald.svc.cluster.local. */
  xdsHost: string;
  xdsPort: number;
  /** node.locality; Herald and proxyless clients use it for locality-aware routing. */
  zone?: string;
  region?: string;
  /** Also take listeners over ADS (Herald answers a wildcard LDS with none today). */
  lds?: boolean;
  /** Envoy's admin listener, on loopback only; omitted when undefined. */
  adminPort?: number;
  /**
   * A plain-HTTP egress listener on 127.0.0.1: a request whose Host (or :authority) is one of
   * these services goes to the Envoy cluster of the same name, which Herald serves over EDS.
   */
  egress?: { port: number; services: string[] };
  /** How often Envoy re-resolves the Herald Service name (ms); default 5000. */
  dnsRefreshMs?: number;
  connectTimeoutMs?: number;
  /** TLS (mTLS with a client certificate) to Herald, from SDS files; plaintext when absent. */
  tls?: SidecarTlsOptions;
}

export type BootstrapObject = Record<string, unknown>;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SERVICE_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Proto3 JSON durations are decimal seconds with an `s` suffix. */
export function durationJson(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3).replace(/0+$/, '')}s`;
}

function checkPort(what: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`${what}: ${port} is not a port from 1 to 65535`);
}

function checkOptions(options: SidecarBootstrapOptions): void {
  if (!SERVICE_NAME.test(options.service)) throw new RangeError(`service: '${options.service}' is not a valid service name`);
  if (options.service === XDS_CLUSTER_NAME) throw new RangeError(`service: '${XDS_CLUSTER_NAME}' is reserved for the xDS cluster`);
  if (options.nodeId.trim() === '') throw new RangeError('nodeId: must not be empty');
  const host = options.xdsHost.replace(/\.$/, '');
  if (host === '' || host.length > 253 || !host.split('.').every((label) => DNS_LABEL.test(label))) {
    throw new RangeError(`xdsHost: '${options.xdsHost}' is not a DNS name`);
  }
  checkPort('xdsPort', options.xdsPort);
  if (options.adminPort !== undefined) checkPort('adminPort', options.adminPort);
  if (options.egress) {
    checkPort('egress.port', options.egress.port);
    if (options.egress.services.length === 0) throw new RangeError('egress.services: name at least one service');
    for (const name of options.egress.services) {
      if (!SERVICE_NAME.test(name) || name === XDS_CLUSTER_NAME) throw new RangeError(`egress.services: '${name}' is not a usable service name`);
    }
    if (options.egress.port === options.adminPort) throw new RangeError('egress.port: same as adminPort');
  }
  if (options.tls) checkTlsOptions(options.tls);
}

function socketAddress(address: string, port: number): BootstrapObject {
  return { socket_address: { address, port_value: port } };
}

function xdsCluster(options: SidecarBootstrapOptions): BootstrapObject {
  return {
    name: XDS_CLUSTER_NAME,
    type: 'STRICT_DNS',
    connect_timeout: durationJson(options.connectTimeoutMs ?? 1000),
    dns_refresh_rate: durationJson(options.dnsRefreshMs ?? 5000),
    // A replica that went away must leave the rotation as soon as DNS stops returning it.
    respect_dns_ttl: true,
    lb_policy: 'ROUND_ROBIN',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: {
          // gRPC needs HTTP/2; keepalive pings find a dead replica before the kernel would.
          http2_protocol_options: { connection_keepalive: { interval: '30s', timeout: '5s' } },
        },
      },
    },
    upstream_connection_options: { tcp_keepalive: { keepalive_time: 60, keepalive_interval: 10, keepalive_probes: 3 } },
    load_assignment: {
      cluster_name: XDS_CLUSTER_NAME,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(options.xdsHost, options.xdsPort) } }] }],
    },
    ...(options.tls ? { transport_socket: xdsTransportSocket(options.tls, options.xdsHost) } : {}),
  };
}

function egressListener(egress: { port: number; services: string[] }): BootstrapObject {
  const services = [...new Set(egress.services)].sort();
  return {
    name: 'herald_egress',
    address: socketAddress('127.0.0.1', egress.port),
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: 'herald_egress',
              route_config: {
                name: 'herald_egress',
                virtual_hosts: services.map((service) => ({
                  name: service,
                  domains: [service, `${service}:*`],
                  routes: [{ match: { prefix: '/' }, route: { cluster: service } }],
                })),
              },
              http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
            },
          },
        ],
      },
    ],
  };
}

/**
 * Builds an envoy.config.bootstrap.v3.Bootstrap in proto3 JSON form (snake_case field names,
 * durations as strings), ready to be written as JSON or YAML for `envoy -c`. Pure: same
 * options, same object. Throws RangeError on an option Envoy would reject.
 */
export function buildSidecarBootstrap(options: SidecarBootstrapOptions): BootstrapObject {
  checkOptions(options);
  const node: BootstrapObject = { id: options.nodeId, cluster: options.service };
  if (options.zone || options.region) {
    node.locality = { ...(options.region ? { region: options.region } : {}), ...(options.zone ? { zone: options.zone } : {}) };
  }
  // A fresh object each time: a shared reference would come out as a YAML anchor.
  const viaAds = () => ({ ads: {}, resource_api_version: 'V3' });
  const dynamic: BootstrapObject = {
    ads_config: {
      api_type: 'GRPC',
      transport_api_version: 'V3',
      grpc_services: [{ envoy_grpc: { cluster_name: XDS_CLUSTER_NAME } }],
      set_node_on_first_message_only: true,
    },
    cds_config: viaAds(),
  };
  if (options.lds ?? true) dynamic.lds_config = viaAds();

  const staticResources: BootstrapObject = { clusters: [xdsCluster(options)] };
  if (options.egress) staticResources.listeners = [egressListener(options.egress)];

  const bootstrap: BootstrapObject = { node, static_resources: staticResources, dynamic_resources: dynamic };
  if (options.adminPort !== undefined) bootstrap.admin = { address: socketAddress('127.0.0.1', options.adminPort) };
  return bootstrap;
}
