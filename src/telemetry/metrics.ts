import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { buildInfo, type BuildInfo } from './build-info.js';

/**
 * Every metric Herald exports, created on one injected registry. Stages receive this object
 * (or the part they need); nothing registers metrics globally.
 */
/** What the per-service policy gauges show, read at scrape time. */
export interface PolicyMetricsReader {
  sections(): Iterable<{ service: string; section: string; role: string; cluster: string }>;
  rejected(): Iterable<{ cluster: string; namespace: string; name: string }>;
  /** The kube clusters the mesh-defaults object evacuates, with its mode. */
  evacuated(): Iterable<{ cluster: string; mode: string }>;
}

export class HeraldMetrics {
  readonly registry: Registry;

  /** Open xDS streams by gRPC API (ads, cds, eds, lds, rds). */
  readonly xdsStreams: Gauge<'api'>;
  /** Open streams from Envoy clients by whether their version keeps DRAINING hosts out of panic/spillover arithmetic. */
  readonly xdsEnvoyStreams: Gauge<'support'>;
  /** Open streams whose client declared the services it calls (node metadata herald.io/dependencies). */
  readonly xdsScopedStreams: Gauge;
  /** Distinct declared dependency lists held by open streams. */
  readonly xdsDependencyScopes: Gauge;
  /** Distinct perspectives (kube cluster, zone) open streams declared, and those turned away past the bound. */
  readonly xdsPerspectives: Gauge;
  readonly xdsPerspectivesRefused: Counter;
  /** Services served their terminating-but-Ready endpoints because none was HEALTHY, and how often that began. */
  readonly terminatingFallbackServices: Gauge;
  readonly terminatingFallbacks: Counter;
  /** Per service whose healthCheck.portName some pods lack: those endpoints, health-checked on their traffic port. */
  readonly healthCheckPortUnresolved: Gauge<'service' | 'port_name'>;
  /** Declared services Herald had no cluster for when a scoped stream got its first CDS response. */
  readonly xdsUnknownDependencies: Counter;
  /** DiscoveryResponses sent, by resource type (cluster, endpoint, listener, route). */
  readonly xdsResponses: Counter<'type'>;
  readonly xdsResponseBytes: Counter<'type'>;
  readonly xdsNacks: Counter<'type'>;
  /** Requests ignored because their nonce was not the stream's latest. */
  readonly xdsStaleNonces: Counter<'type'>;
  /** Requests Herald could not serve: unknown type URLs are ignored, undecodable requests end their stream. */
  readonly xdsRejectedRequests: Counter<'reason'>;
  readonly xdsStreamPaths: Counter<'write' | 'read'>;
  readonly xdsConnections: Gauge;
  readonly xdsConnectionsRefused: Counter<'reason'>;
  readonly xdsConnectionsClosed: Counter<'reason'>;
  /** Streams ended for crossing one of the xDS limits, by limit. */
  readonly xdsLimitExceeded: Counter<'limit'>;
  /** Admin requests refused: a Host not on the allow-list, or a debug page without credentials. */
  readonly adminRequestsRefused: Counter<'reason'>;
  /** CSDS calls refused for lack of credentials (neither loopback nor the admin token). */
  readonly csdsRequestsRefused: Counter<'reason'>;
  /** Streams ended because the client's certificate does not allow the node it claims, by reason. */
  readonly xdsIdentityRefused: Counter<'reason'>;

  /** TLS files re-read with new, valid material that new handshakes now use. */
  readonly tlsReloads: Counter;
  /** TLS files that changed but did not load (half-written, mismatched key); the old material stays. */
  readonly tlsReloadFailures: Counter;
  /** notAfter of the serving certificate and of the earliest-expiring CA in use. */
  readonly tlsCertificateExpiry: Gauge<'certificate'>;

  /** Endpoints in the mesh by Kubernetes cluster and health. */
  readonly endpoints: Gauge<'kube_cluster' | 'health'>;
  readonly services: Gauge;
  readonly kubeClusterSynced: Gauge<'kube_cluster'>;
  readonly kubeEvents: Counter<'kube_cluster' | 'kind' | 'type'>;
  readonly kubeWatchRestarts: Counter<'kube_cluster' | 'kind'>;
  /** A cluster's kubeconfig (or a file it names) changed: reconnected with it, or kept the old one because it did not load. */
  readonly kubeCredentialReloads: Counter<'kube_cluster' | 'result'>;
  /** Pods that give no endpoint, by reason (no_port, no_service, not_ready, ip_conflict, ...). */
  readonly podsSkipped: Counter<'kube_cluster' | 'reason'>;
  /** IP ownership conflicts: reuse inside one cluster, or overlap across clusters. */
  readonly ipConflicts: Counter<'kind'>;

  readonly resourceBuilds: Counter<'type'>;
  /** ServicePolicy objects by state: `active` (resolved and served), `rejected` (newest generation invalid in some kube cluster). */
  readonly policies: Gauge<'state'>;
  /** ServicePolicy generations Herald rejected (the previous valid one stays), by kube cluster. */
  readonly policyRejections: Counter<'kube_cluster'>;
  /** ServicePolicy objects whose copies in different kube clusters differ (resolved by --policy-clusters). */
  readonly policyConflicts: Gauge;
  /**
   * 1 per (service, section) of each service's effective policy, labelled with the object it came
   * from (`role` service or defaults, its kube cluster). Read at scrape time from setPolicyReader.
   */
  readonly servicePolicy: Gauge<'service' | 'section' | 'role' | 'kube_cluster'>;
  /** 1 per kube cluster the mesh defaults evacuate (locality.evacuate), with the mode; read at scrape time. */
  readonly evacuatedClusters: Gauge<'kube_cluster' | 'mode'>;
  /** Services spilling traffic to a later priority for some client that ignores overprovisioning; read at scrape time from setSpillReader. */
  readonly spillServices: Gauge;
  /** 1 per ServicePolicy copy whose newest generation is rejected; read at scrape time. */
  readonly policyRejected: Gauge<'kube_cluster' | 'namespace' | 'name'>;
  /** ServicePolicy status writes (--policy-status) by result: written, failed, dropped. */
  readonly policyStatusWrites: Counter<'result'>;
  private policyReader: PolicyMetricsReader | undefined;
  private spillReader: (() => number) | undefined;
  readonly drainPropagation: Histogram;
  /** Drains finished, by outcome: complete (every stream ACKed or went away) or incomplete (time ran out). */
  readonly drainsFinished: Counter<'outcome'>;
  /** Requests waiting on /debug/drains/wait. */
  readonly drainWaiters: Gauge;
  /** Drain Events written to Kubernetes, by reason and result (created, failed). */
  readonly drainEvents: Counter<'reason' | 'result'>;
  /** Drain Events dropped before being written, by why (queue_full). */
  readonly drainEventsDropped: Counter<'reason'>;
  /** Drain Events waiting for the rate limit. */
  readonly drainEventsQueued: Gauge;

  constructor(options: { registry?: Registry; defaultMetrics?: boolean; build?: BuildInfo } = {}) {
    const registry = options.registry ?? new Registry();
    this.registry = registry;
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'herald_' });
    const reg = [registry];
    const build = options.build ?? buildInfo();
    new Gauge({ name: 'herald_build_info', help: 'Always 1; labels say which Herald runs, on which Node.js', labelNames: ['version', 'nodejs'], registers: reg }).set(
      { version: build.version, nodejs: build.node },
      1,
    );

    this.xdsStreams = new Gauge({ name: 'herald_xds_streams', help: 'Open xDS streams by gRPC API', labelNames: ['api'], registers: reg });
    this.xdsEnvoyStreams = new Gauge({
      name: 'herald_xds_envoy_streams',
      help: 'Open xDS streams from Envoy clients, by version support: ok, old (counts DRAINING hosts as unhealthy), unknown (no version sent)',
      labelNames: ['support'],
      registers: reg,
    });
    // Every value from the start, so an alert on support="old" compares with 0 rather than nothing.
    for (const support of ['ok', 'old', 'unknown']) this.xdsEnvoyStreams.set({ support }, 0);
    this.xdsScopedStreams = new Gauge({
      name: 'herald_xds_scoped_streams',
      help: 'Open xDS streams whose client declared the services it calls (node metadata herald.io/dependencies)',
      registers: reg,
    });
    this.xdsDependencyScopes = new Gauge({ name: 'herald_xds_dependency_scopes', help: 'Distinct declared dependency lists held by open xDS streams', registers: reg });
    this.xdsPerspectives = new Gauge({ name: 'herald_xds_perspectives', help: 'Distinct perspectives (herald.io/kube-cluster, locality zone) held by open xDS streams', registers: reg });
    this.xdsPerspectivesRefused = new Counter({
      name: 'herald_xds_perspectives_refused_total',
      help: 'Streams whose declared perspective was past the bound on distinct perspectives; they read the replica view',
      registers: reg,
    });
    this.terminatingFallbackServices = new Gauge({
      name: 'herald_terminating_fallback_services',
      help: 'Services with no HEALTHY endpoint served their terminating pods that are still Ready',
      registers: reg,
    });
    this.terminatingFallbacks = new Counter({
      name: 'herald_terminating_fallbacks_total',
      help: 'Times a service began to be served its terminating-but-Ready endpoints because none was HEALTHY',
      registers: reg,
    });
    this.healthCheckPortUnresolved = new Gauge({
      name: 'herald_health_check_port_unresolved_endpoints',
      help: 'Endpoints whose pod has no container port named by the service policy healthCheck.portName; Envoy checks them on their traffic port',
      labelNames: ['service', 'port_name'],
      registers: reg,
    });
    this.xdsUnknownDependencies = new Counter({
      name: 'herald_xds_unknown_dependencies_total',
      help: 'Services a client declared in herald.io/dependencies that Herald had no cluster for at its first CDS response (once per stream)',
      registers: reg,
    });
    this.xdsResponses = new Counter({ name: 'herald_xds_responses_total', help: 'xDS responses sent by resource type', labelNames: ['type'], registers: reg });
    this.xdsResponseBytes = new Counter({ name: 'herald_xds_response_bytes_total', help: 'Bytes of xDS responses sent by resource type', labelNames: ['type'], registers: reg });
    this.xdsNacks = new Counter({ name: 'herald_xds_nacks_total', help: 'xDS NACKs received by resource type', labelNames: ['type'], registers: reg });
    this.xdsStaleNonces = new Counter({ name: 'herald_xds_stale_nonces_total', help: 'xDS requests ignored for a stale nonce', labelNames: ['type'], registers: reg });
    this.xdsStreamPaths = new Counter({
      name: 'herald_xds_stream_paths_total',
      help: 'xDS streams by the path their responses (write: direct or grpc-js) and requests (read: splitter or grpc-js) took',
      labelNames: ['write', 'read'],
      registers: reg,
    });
    this.xdsConnections = new Gauge({ name: 'herald_xds_connections', help: 'Open xDS connections', registers: reg });
    this.xdsConnectionsRefused = new Counter({
      name: 'herald_xds_connections_refused_total',
      help: 'xDS connections refused at accept, by the limit they crossed',
      labelNames: ['reason'],
      registers: reg,
    });
    this.xdsConnectionsClosed = new Counter({
      name: 'herald_xds_connections_closed_total',
      help: 'xDS connections closed by Herald for opening no stream in time (handshake_timeout) or keeping none open (idle_timeout)',
      labelNames: ['reason'],
      registers: reg,
    });
    this.xdsLimitExceeded = new Counter({ name: 'herald_xds_limit_exceeded_total', help: 'xDS streams ended for crossing a limit, by limit', labelNames: ['limit'], registers: reg });
    this.adminRequestsRefused = new Counter({
      name: 'herald_admin_requests_refused_total',
      help: 'Admin HTTP requests refused, by reason (host_not_allowed, no_credentials, malformed_credentials, bad_token)',
      labelNames: ['reason'],
      registers: reg,
    });
    this.csdsRequestsRefused = new Counter({
      name: 'herald_csds_requests_refused_total',
      help: 'CSDS calls refused, by reason (no_credentials, malformed_credentials, bad_token)',
      labelNames: ['reason'],
      registers: reg,
    });
    this.xdsIdentityRefused = new Counter({
      name: 'herald_xds_identity_refused_total',
      help: "xDS streams refused because the client certificate's identity does not allow the node it claims, by reason",
      labelNames: ['reason'],
      registers: reg,
    });
    this.tlsReloads = new Counter({ name: 'herald_tls_reloads_total', help: 'TLS certificate, key or CA files reloaded with new valid material', registers: reg });
    this.tlsReloadFailures = new Counter({
      name: 'herald_tls_reload_failures_total',
      help: 'TLS files that changed but did not load; the previous material stays in use',
      registers: reg,
    });
    this.tlsCertificateExpiry = new Gauge({
      name: 'herald_tls_certificate_expiry_timestamp_seconds',
      help: 'When the certificate in use expires (Unix seconds): certificate="serving", or "ca" for the earliest-expiring CA',
      labelNames: ['certificate'],
      registers: reg,
    });
    this.xdsRejectedRequests = new Counter({ name: 'herald_xds_rejected_requests_total', help: 'xDS requests ignored or refused, by reason', labelNames: ['reason'], registers: reg });

    this.endpoints = new Gauge({ name: 'herald_endpoints', help: 'Endpoints served by Kubernetes cluster and health', labelNames: ['kube_cluster', 'health'], registers: reg });
    this.services = new Gauge({ name: 'herald_services', help: 'Services with at least one known pod', registers: reg });
    this.kubeClusterSynced = new Gauge({
      name: 'herald_kube_cluster_synced',
      help: '1 when the Kubernetes cluster is listed and watched, else 0',
      labelNames: ['kube_cluster'],
      registers: reg,
    });
    this.kubeEvents = new Counter({
      name: 'herald_kube_events_total',
      help: 'Kubernetes watch events by cluster, kind and type',
      labelNames: ['kube_cluster', 'kind', 'type'],
      registers: reg,
    });
    this.kubeWatchRestarts = new Counter({ name: 'herald_kube_watch_restarts_total', help: 'Informer restarts after errors', labelNames: ['kube_cluster', 'kind'], registers: reg });
    this.kubeCredentialReloads = new Counter({
      name: 'herald_kube_credential_reloads_total',
      help: 'Kubeconfig or credential file changes of a cluster: result=reconnected, or failed (the previous credentials stay in use)',
      labelNames: ['kube_cluster', 'result'],
      registers: reg,
    });
    this.podsSkipped = new Counter({ name: 'herald_pods_skipped_total', help: 'Pod observations that gave no endpoint, by reason', labelNames: ['kube_cluster', 'reason'], registers: reg });
    this.ipConflicts = new Counter({ name: 'herald_ip_conflicts_total', help: 'Pod IP conflicts: reuse within a cluster or overlap across clusters', labelNames: ['kind'], registers: reg });

    this.policies = new Gauge({ name: 'herald_policies', help: 'ServicePolicy objects by state (active, rejected)', labelNames: ['state'], registers: reg });
    this.policyRejections = new Counter({
      name: 'herald_policy_rejections_total',
      help: 'ServicePolicy generations rejected by validation, by kube cluster',
      labelNames: ['kube_cluster'],
      registers: reg,
    });
    this.policyConflicts = new Gauge({ name: 'herald_policy_conflicts', help: 'ServicePolicy objects whose copies in different kube clusters differ', registers: reg });
    // Built from the registry's state when scraped, so a service or object that goes away leaves
    // no stale series behind and nothing is kept in step by hand.
    const reader = (): PolicyMetricsReader | undefined => this.policyReader;
    this.servicePolicy = new Gauge({
      name: 'herald_service_policy_info',
      help: 'Always 1: per service and ServicePolicy section in effect, the object it came from (role service or defaults, kube cluster)',
      labelNames: ['service', 'section', 'role', 'kube_cluster'],
      registers: reg,
      collect() {
        this.reset();
        for (const row of reader()?.sections() ?? []) this.set({ service: row.service, section: row.section, role: row.role, kube_cluster: row.cluster }, 1);
      },
    });
    this.policyRejected = new Gauge({
      name: 'herald_policy_rejected',
      help: 'Always 1: a ServicePolicy copy whose newest generation was rejected (the previous valid one, if any, is served)',
      labelNames: ['kube_cluster', 'namespace', 'name'],
      registers: reg,
      collect() {
        this.reset();
        for (const row of reader()?.rejected() ?? []) this.set({ kube_cluster: row.cluster, namespace: row.namespace, name: row.name }, 1);
      },
    });
    this.evacuatedClusters = new Gauge({
      name: 'herald_evacuated_clusters',
      help: 'Always 1: a kube cluster the mesh-defaults ServicePolicy evacuates (locality.evacuate), by mode: LastPriority or Drain',
      labelNames: ['kube_cluster', 'mode'],
      registers: reg,
      collect() {
        this.reset();
        for (const row of reader()?.evacuated() ?? []) this.set({ kube_cluster: row.cluster, mode: row.mode }, 1);
      },
    });
    const spilling = (): number => this.spillReader?.() ?? 0;
    this.spillServices = new Gauge({
      name: 'herald_spill_services',
      help: 'Services whose assignment for a connected client that ignores overprovisioning (proxyless gRPC) moves traffic to a later priority through spill weights',
      registers: reg,
      collect() {
        this.set(spilling());
      },
    });
    this.policyStatusWrites = new Counter({
      name: 'herald_policy_status_writes_total',
      help: 'ServicePolicy Accepted conditions written with --policy-status, by result: written, failed, dropped (rate-limit queue full)',
      labelNames: ['result'],
      registers: reg,
    });
    this.resourceBuilds = new Counter({ name: 'herald_resource_builds_total', help: 'Resources rebuilt and re-encoded by type', labelNames: ['type'], registers: reg });
    this.drainPropagation = new Histogram({
      name: 'herald_drain_propagation_seconds',
      help: 'From a terminating pod being observed to every subscribed stream ACKing the DRAINING assignment',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30],
      registers: reg,
    });
    this.drainsFinished = new Counter({
      name: 'herald_drains_total',
      help: 'Drains finished, by outcome: complete (every subscribed stream ACKed DRAINING or went away) or incomplete (the grace or drain timeout ran out first)',
      labelNames: ['outcome'],
      registers: reg,
    });
    for (const outcome of ['complete', 'incomplete']) this.drainsFinished.inc({ outcome }, 0);
    this.drainWaiters = new Gauge({ name: 'herald_drain_waiters', help: 'Requests waiting on /debug/drains/wait for a pod to be drained', registers: reg });
    this.drainEvents = new Counter({
      name: 'herald_drain_events_total',
      help: 'Kubernetes Events about drains (HeraldDrained, HeraldDrainIncomplete) by reason and result: created, failed',
      labelNames: ['reason', 'result'],
      registers: reg,
    });
    this.drainEventsDropped = new Counter({
      name: 'herald_drain_events_dropped_total',
      help: 'Drain Events dropped without being written, by why: queue_full (more drains than the rate limit lets out), shutdown',
      labelNames: ['reason'],
      registers: reg,
    });
    this.drainEventsQueued = new Gauge({ name: 'herald_drain_events_queued', help: 'Drain Events waiting for the Event rate limit', registers: reg });
  }

  /** Where the per-service policy gauges read from when scraped (the daemon's policy registry). */
  setPolicyReader(reader: PolicyMetricsReader): void {
    this.policyReader = reader;
  }

  /** Where herald_spill_services reads from when scraped (the daemon's resource pipeline). */
  setSpillReader(reader: () => number): void {
    this.spillReader = reader;
  }
}
