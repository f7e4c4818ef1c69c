// The subset of Envoy's v3 API that Herald emits, as plain objects in proto field spelling
// (snake_case, enums by name). These are the inputs of protobufjs `Type.fromObject`; keeping them
// typed lets the compiler catch a misspelt field before the encoder's strict check has to.

import type { EndpointHealth } from '../model/index.js';

export interface Duration {
  seconds: number;
  nanos: number;
}

/** google.protobuf.UInt32Value and friends: the wrapper is a message with one `value` field. */
export interface UInt32Value {
  value: number;
}

/** An embedded google.protobuf.Any written in protobufjs' `@type` form; other fields belong to the inner message. */
export interface AnyOf {
  '@type': string;
  [field: string]: unknown;
}

export interface AdsConfigSource {
  ads: Record<string, never>;
  resource_api_version: 'V3';
}

/** One health checker is set: HTTP, gRPC (grpc.health.v1) or TCP connect. */
export interface HealthCheckResource {
  timeout: Duration;
  interval: Duration;
  unhealthy_threshold: UInt32Value;
  healthy_threshold: UInt32Value;
  http_health_check?: { path: string; codec_client_type?: 'HTTP2' };
  grpc_health_check?: { service_name: string };
  tcp_health_check?: Record<string, never>;
}

export interface ClusterResource {
  name: string;
  type: 'EDS';
  eds_cluster_config: { eds_config: AdsConfigSource };
  connect_timeout: Duration;
  lb_policy: 'ROUND_ROBIN';
  common_lb_config: { update_merge_window: Duration; healthy_panic_threshold?: { value: number }; ignore_new_hosts_until_first_hc?: boolean };
  /** Set by a ServicePolicy only: balancers in order of preference, round_robin last. */
  load_balancing_policy?: { policies: LoadBalancingPolicyEntry[] };
  circuit_breakers?: CircuitBreakersResource;
  outlier_detection?: OutlierDetectionResource;
  health_checks?: HealthCheckResource[];
  ignore_health_on_host_removal?: boolean;
  /** Keyed by extension name; Herald sets only the upstream HTTP protocol options. */
  typed_extension_protocol_options?: Record<string, AnyOf>;
}

export interface LoadBalancingPolicyEntry {
  typed_extension_config: { name: string; typed_config: AnyOf };
}

/** envoy.config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget; budget_percent is a type.v3.Percent (0–100). */
export interface RetryBudgetResource {
  budget_percent?: { value: number };
  min_retry_concurrency?: UInt32Value;
}

export interface CircuitBreakersResource {
  thresholds?: Array<{
    priority: 'DEFAULT';
    max_connections?: UInt32Value;
    max_pending_requests?: UInt32Value;
    max_requests?: UInt32Value;
    max_retries?: UInt32Value;
    retry_budget?: RetryBudgetResource;
  }>;
  per_host_thresholds?: Array<{ priority: 'DEFAULT'; max_connections: UInt32Value }>;
}

export interface OutlierDetectionResource {
  consecutive_5xx?: UInt32Value;
  consecutive_gateway_failure?: UInt32Value;
  enforcing_consecutive_5xx?: UInt32Value;
  enforcing_consecutive_gateway_failure?: UInt32Value;
  enforcing_success_rate: UInt32Value;
  success_rate_minimum_hosts?: UInt32Value;
  success_rate_request_volume?: UInt32Value;
  success_rate_stdev_factor?: UInt32Value;
  enforcing_failure_percentage?: UInt32Value;
  failure_percentage_threshold?: UInt32Value;
  failure_percentage_minimum_hosts?: UInt32Value;
  failure_percentage_request_volume?: UInt32Value;
  interval?: Duration;
  base_ejection_time?: Duration;
  max_ejection_percent?: UInt32Value;
}

export interface LbEndpointResource {
  endpoint: { address: { socket_address: { address: string; port_value: number } }; health_check_config?: { port_value: number } };
  health_status: EndpointHealth;
}

export interface LocalityLbEndpointsResource {
  /** sub_zone only to keep two localities of one zone apart: merged into a lower priority for clients that ignore overprovisioning (failover.ts), or repeating a zone of an earlier priority (builders.ts). */
  locality: { region: string; zone: string; sub_zone?: string };
  lb_endpoints: LbEndpointResource[];
  load_balancing_weight: UInt32Value;
  priority: number;
}

export interface ClusterLoadAssignmentResource {
  cluster_name: string;
  endpoints: LocalityLbEndpointsResource[];
}

export interface ListenerResource {
  name: string;
  api_listener: { api_listener: AnyOf };
}

/** RouteAction.HashPolicy: Herald hashes on one request header. */
export interface RouteHashPolicy {
  header: { header_name: string };
}

export interface VirtualHostResource {
  name: string;
  domains: string[];
  routes: Array<{ match: { prefix: string }; route: RouteActionResource }>;
}

/** One cluster, or (a ServicePolicy split) weighted clusters; the other fields come from a ServicePolicy only. */
export interface RouteActionResource {
  cluster?: string;
  weighted_clusters?: { clusters: Array<{ name: string; weight: UInt32Value }> };
  timeout?: Duration;
  max_stream_duration?: { max_stream_duration: Duration };
  retry_policy?: RetryPolicyResource;
  /** The ring hash's header (loadBalancing RingHash). */
  hash_policy?: RouteHashPolicy[];
}

export interface RetryPolicyResource {
  retry_on: string;
  num_retries?: UInt32Value;
  per_try_timeout?: Duration;
  retry_back_off?: { base_interval: Duration; max_interval?: Duration };
}

export interface RouteConfigurationResource {
  name: string;
  virtual_hosts: VirtualHostResource[];
}
