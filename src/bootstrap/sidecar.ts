// The Envoy bootstrap a sidecar needs to take its clusters and endpoints from Herald.
//
// The xDS cluster is STRICT_DNS on the headless Service name: Envoy resolves every Herald
// replica's IP and load-balances its one ADS stream over them, and when a replica goes away
// (SIGTERM, rollout) the stream reconnects to another address from the same DNS answer.
// Envoy does not expand environment variables inside a bootstrap file, so node identity is
// resolved when the file is written (an init container runs `herald bootstrap` with the pod's
// downward-API env) rather than left as placeholders.
//
// Start order: CDS and LDS wait for Herald's first answer with no timeout, so Envoy stays
// INITIALIZING (admin /ready 503, no listener serving) until its first clusters and listeners
// arrived; the optional readiness listener lets kubelet see that state.
import { declaredDependencies, DEPENDENCIES_METADATA, egressRouteName, KUBE_CLUSTER_METADATA, NAMESPACE_METADATA } from '../model/index.js';
import { checkTlsOptions, xdsTransportSocket, type SidecarTlsOptions } from './tls.js';

/** The name of the static cluster that carries ADS; generated clusters must not use it. */
export const XDS_CLUSTER_NAME = 'herald_xds';
/** The static cluster the readiness listener forwards GET /ready to: Envoy's own admin. */
export const ADMIN_CLUSTER_NAME = 'herald_admin';
/** The one path the readiness listener answers. */
export const READINESS_PATH = '/ready';

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
  /** Node metadata `herald.io/kube-cluster`: the kube cluster the pod runs in, as Herald names it. */
  kubeCluster?: string;
  /** Node metadata `herald.io/namespace`: the pod's namespace. */
  namespace?: string;
  /** Also take listeners over ADS (Herald answers a wildcard LDS with none today). */
  lds?: boolean;
  /** Envoy's admin listener, on loopback only; omitted when undefined. */
  adminPort?: number;
  /**
   * A listener on 0.0.0.0 (kubelet probes the pod IP) that answers GET /ready from Envoy's admin
   * /ready — 200 only once Envoy is LIVE — and 404 to anything else. Needs adminPort.
   */
  readinessPort?: number;
  /**
   * The services this Envoy's application calls (node metadata `herald.io/dependencies`): Herald
   * then sends it just those clusters, their endpoints and their drains. Unset: the whole mesh.
   */
  dependencies?: string[];
  /**
   * A plain-HTTP egress listener on 127.0.0.1 for the application: its routes come from Herald
   * over RDS, one virtual host per dependency (the service name, name:port and the in-cluster
   * DNS forms), so route policy reaches the sidecar with no new bootstrap. Needs dependencies.
   */
  egressPort?: number;
  /** How often Envoy re-resolves the Herald Service name (ms); default 5000. */
  dnsRefreshMs?: number;
  connectTimeoutMs?: number;
  /** TLS (mTLS with a client certificate) to Herald, from SDS files; plaintext when absent. */
  tls?: SidecarTlsOptions;
}

export type BootstrapObject = Record<string, unknown>;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SERVICE_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const RESERVED_CLUSTERS = new Set([XDS_CLUSTER_NAME, ADMIN_CLUSTER_NAME]);

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
  if (RESERVED_CLUSTERS.has(options.service)) throw new RangeError(`service: '${options.service}' is reserved for a static cluster of the bootstrap`);
  if (options.nodeId.trim() === '') throw new RangeError('nodeId: must not be empty');
  const host = options.xdsHost.replace(/\.$/, '');
  if (host === '' || host.length > 253 || !host.split('.').every((label) => DNS_LABEL.test(label))) {
    throw new RangeError(`xdsHost: '${options.xdsHost}' is not a DNS name`);
  }
  checkPort('xdsPort', options.xdsPort);
  for (const [what, value] of [
    ['kubeCluster', options.kubeCluster],
    ['namespace', options.namespace],
  ] as const) {
    // Herald's kube cluster names and Kubernetes namespaces are both DNS labels.
    if (value !== undefined && (value.length > 63 || !DNS_LABEL.test(value))) throw new RangeError(`${what}: '${value}' is not a DNS label`);
  }
  if (options.adminPort !== undefined) checkPort('adminPort', options.adminPort);
  if (options.readinessPort !== undefined) {
    checkPort('readinessPort', options.readinessPort);
    if (options.adminPort === undefined) throw new RangeError("readinessPort: needs adminPort (the listener forwards to Envoy's admin /ready)");
    if (options.readinessPort === options.adminPort) throw new RangeError('readinessPort: same as adminPort');
  }
  for (const name of options.dependencies ?? []) {
    if (!SERVICE_NAME.test(name) || RESERVED_CLUSTERS.has(name)) throw new RangeError(`dependencies: '${name}' is not a usable service name`);
  }
  if (options.egressPort !== undefined) {
    checkPort('egressPort', options.egressPort);
    if (!options.dependencies?.length) throw new RangeError('egressPort: name at least one dependency for the egress listener to route to');
    if (options.egressPort === options.adminPort) throw new RangeError('egressPort: same as adminPort');
    if (options.egressPort === options.readinessPort) throw new RangeError('egressPort: same as readinessPort');
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

const routerFilter = (): BootstrapObject => ({ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } });

/** Envoy's admin interface as an upstream; only the readiness route uses it. */
function adminCluster(adminPort: number): BootstrapObject {
  return {
    name: ADMIN_CLUSTER_NAME,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: ADMIN_CLUSTER_NAME,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress('127.0.0.1', adminPort) } }] }],
    },
  };
}

/**
 * GET /ready (exact path, query ignored as admin ignores it) goes to admin /ready; every other
 * method or path gets a 404 from Envoy itself, so nothing else of admin is reachable. Envoy
 * serves on its listeners only after initialization, so before that the probe gets no answer,
 * and afterwards admin's (503 again while draining).
 */
function readinessListener(port: number): BootstrapObject {
  return {
    name: 'herald_readiness',
    address: socketAddress('0.0.0.0', port),
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: 'herald_readiness',
              normalize_path: true,
              merge_slashes: true,
              route_config: {
                name: 'herald_readiness',
                virtual_hosts: [
                  {
                    name: 'readiness',
                    domains: ['*'],
                    routes: [
                      {
                        match: { path: READINESS_PATH, headers: [{ name: ':method', string_match: { exact: 'GET' } }] },
                        route: { cluster: ADMIN_CLUSTER_NAME, timeout: '1s' },
                      },
                      { match: { prefix: '/' }, direct_response: { status: 404 } },
                    ],
                  },
                ],
              },
              http_filters: [routerFilter()],
            },
          },
        ],
      },
    ],
  };
}

/**
 * The application's way out: plain HTTP on loopback, routed by Host (or :authority) with the
 * RouteConfiguration Herald serves for this dependency list. Envoy does not serve on the
 * listener until the routes arrived (no initial fetch timeout), so the readiness listener keeps
 * the pod unready until then.
 */
function egressListener(port: number, dependencies: readonly string[]): BootstrapObject {
  return {
    name: 'herald_egress',
    address: socketAddress('127.0.0.1', port),
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: 'herald_egress',
              rds: { config_source: viaAds(), route_config_name: egressRouteName(dependencies) },
              http_filters: [routerFilter()],
            },
          },
        ],
      },
    ],
  };
}

// A fresh object each time: a shared reference would come out as a YAML anchor. No initial
// fetch timeout (0s; the default is 15s): Envoy must not go LIVE without its clusters,
// listeners and routes. Herald answers a wildcard CDS or LDS even when it has nothing to send.
const viaAds = (): BootstrapObject => ({ ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '0s' });

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
  const dependencies = options.dependencies === undefined ? undefined : declaredDependencies(options.dependencies);
  const metadata: Record<string, string | string[]> = {};
  if (options.kubeCluster !== undefined) metadata[KUBE_CLUSTER_METADATA] = options.kubeCluster;
  if (options.namespace !== undefined) metadata[NAMESPACE_METADATA] = options.namespace;
  if (dependencies !== undefined) metadata[DEPENDENCIES_METADATA] = dependencies;
  if (Object.keys(metadata).length > 0) node.metadata = metadata;
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
  const listeners: BootstrapObject[] = [];
  if (options.egressPort !== undefined && dependencies) listeners.push(egressListener(options.egressPort, dependencies));
  if (options.readinessPort !== undefined && options.adminPort !== undefined) {
    listeners.push(readinessListener(options.readinessPort));
    (staticResources.clusters as BootstrapObject[]).push(adminCluster(options.adminPort));
  }
  if (listeners.length > 0) staticResources.listeners = listeners;

  const bootstrap: BootstrapObject = { node, static_resources: staticResources, dynamic_resources: dynamic };
  if (options.adminPort !== undefined) bootstrap.admin = { address: socketAddress('127.0.0.1', options.adminPort) };
  return bootstrap;
}
