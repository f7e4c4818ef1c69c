import * as grpc from '@grpc/grpc-js';
import type { Argv, CommandModule } from 'yargs';
import { startDaemon } from '../app/index.js';
import { CustomObjectsApi, EventsV1Api } from '@kubernetes/client-node';
import {
  buildDrainConfig,
  buildPolicyStatusConfig,
  buildServeConfig,
  DRAIN_DEFAULTS,
  limitOptions,
  POLICY_STATUS_DEFAULTS,
  SERVE_DEFAULTS,
  type HeraldServeConfig,
} from '../config/index.js';
import { kubeEventWriter } from '../drains/index.js';
import { systemClock } from '../model/index.js';
import { KubeClusterSource, KubePolicySource, kubePolicyStatusWriter } from '../sources/kube/index.js';
import { createLogger, HeraldMetrics, stdoutIsTerminal, type Logger } from '../telemetry/index.js';
import { TlsReloader } from '../tls/index.js';
import { runUntilSignalled, shutdownSettings, withListenerFlags, withShutdownFlags } from './common.js';

/** The TLS files, re-read as they rotate; undefined for plaintext xDS. Throws when they do not load. */
function tlsReloader(config: HeraldServeConfig, logger: Logger, metrics: HeraldMetrics): TlsReloader | undefined {
  const tls = config.tls;
  if (!tls) return undefined;
  return new TlsReloader({ files: { certPath: tls.certPath, keyPath: tls.keyPath, caPath: tls.caPath }, logger: logger.child({ stage: 'tls' }), metrics });
}

/** The xDS limits' flags (--max-names-per-stream and the rest), from the limits table. */
function withLimitFlags<T>(args: Argv<T>): Argv<T> {
  let out = args;
  for (const { name, describe } of limitOptions()) out = out.option(name, { type: 'string', describe, group: 'xDS client limits:' });
  return out;
}

export function serveCommand(setExitCode: (code: number) => void): CommandModule {
  return {
    command: 'serve',
    describe: 'Watch Kubernetes clusters and serve their pods to Envoys over xDS',
    builder: (args) =>
      withLimitFlags(withShutdownFlags(withListenerFlags(args, SERVE_DEFAULTS.xdsHost)))
        .option('cluster', {
          type: 'string',
          array: true,
          describe: 'a Kubernetes cluster to watch, NAME=KUBECONFIG[#CONTEXT] (repeatable); none = the cluster Herald runs in',
        })
        .option('in-cluster', { type: 'string', describe: 'also watch the cluster Herald runs in, under this name' })
        .option('local-cluster', { type: 'string', describe: 'cluster whose endpoints get priority 0 (the others 1) for clients that do not declare herald.io/kube-cluster' })
        .option('service-label', { type: 'string', default: SERVE_DEFAULTS.serviceLabel, describe: 'pod label naming the service' })
        .option('service-scope', {
          type: 'string',
          choices: ['namespace', 'mesh'],
          default: SERVE_DEFAULTS.serviceScope,
          describe:
            "namespace: a service is (namespace, label value), named '<label>.<namespace>'; mesh: the label value alone, pods of every namespace merge, so anyone who can create a pod in any namespace receives that service's traffic",
        })
        .option('namespace', {
          type: 'string',
          array: true,
          describe: 'watch only the pods of this namespace (repeatable); none = every namespace',
        })
        .option('port-name', { type: 'string', default: SERVE_DEFAULTS.portName, describe: 'container port name used as the endpoint port' })
        .option('default-port', { type: 'string', describe: 'endpoint port when neither annotation nor named port applies' })
        .option('policy-clusters', {
          type: 'string',
          array: true,
          describe: 'kube clusters ServicePolicies are read from, comma-separated or repeated; the first wins when their copies differ (default: every --cluster, in order)',
        })
        .option('policy-namespace', { type: 'string', default: SERVE_DEFAULTS.policyNamespace, describe: "Herald's namespace: where the mesh-defaults ServicePolicy is read" })
        .option('policy-status', {
          type: 'boolean',
          default: false,
          describe: "write each ServicePolicy's Accepted condition (with the field path of a rejection) to its status, in the cluster it was read from; needs deploy/rbac-policy-status",
        })
        .option('policy-status-qps', { type: 'number', default: POLICY_STATUS_DEFAULTS.perSecond, describe: 'ServicePolicy status writes per second per replica, on average' })
        .option('initial-sync-timeout', { type: 'string', default: '30s', describe: 'serve xDS after this even if a cluster has not synced' })
        .option('cluster-domain', { type: 'string', describe: 'DNS suffix of in-cluster Service names, answered by sidecar egress routes (default cluster.local)' })
        .option('include-not-ready', { type: 'boolean', default: false, describe: 'send not-Ready pods as UNHEALTHY instead of leaving them out' })
        .option('batch-window', {
          type: 'string',
          default: `${SERVE_DEFAULTS.batchWindowMs}ms`,
          describe: 'push pod changes at most once per window (a change after a quiet window at once, later ones coalesced to the window end)',
        })
        .option('max-connection-age', { type: 'string', describe: 'close xDS connections after this age so streams spread over new replicas' })
        .option('grpc-fast-path', {
          type: 'boolean',
          default: SERVE_DEFAULTS.grpcFastPath,
          describe: "let xDS streams write and read below grpc-js's public API where its internals have the known shape (--no-grpc-fast-path: never)",
        })
        .option('admin-token-file', {
          type: 'string',
          describe:
            'file holding a bearer token that lets callers from outside the pod read /debug/*, /ui and CSDS (re-read when it changes); without it only loopback callers (kubectl port-forward) may',
        })
        .option('admin-allowed-host', {
          type: 'string',
          array: true,
          describe: 'a host name the admin port accepts in the Host header, besides IP addresses and localhost (repeatable)',
        })
        .option('tls-cert', { type: 'string', describe: 'PEM certificate for the xDS server (re-read when the file changes)' })
        .option('tls-key', { type: 'string', describe: 'PEM private key for the xDS server (re-read when the file changes)' })
        .option('tls-ca', {
          type: 'string',
          describe:
            "PEM CA bundle (re-read when the file changes); when given, xDS clients must present a certificate it signed, and the certificate's identity (SPIFFE URI SAN, else CN) binds the node id it may claim",
        })
        .option('drain-timeout', {
          type: 'string',
          default: DRAIN_DEFAULTS.drainTimeout,
          describe: "a drain not ACKed by every xDS client within this (or the pod's termination grace, if shorter) is reported incomplete",
          group: 'Drain receipts:',
        })
        .option('drain-events', {
          type: 'boolean',
          default: false,
          describe: "write a Kubernetes Event on each drained pod (HeraldDrained, HeraldDrainIncomplete), in the pod's cluster; needs deploy/rbac-events",
          group: 'Drain receipts:',
        })
        .option('drain-events-qps', {
          type: 'number',
          default: DRAIN_DEFAULTS.eventsPerSecond,
          describe: 'drain Events written per second per replica, on average',
          group: 'Drain receipts:',
        })
        .option('drain-events-burst', { type: 'number', default: DRAIN_DEFAULTS.eventBurst, describe: 'drain Events written at once after a quiet spell', group: 'Drain receipts:' })
        .option('drain-events-queue', {
          type: 'number',
          default: DRAIN_DEFAULTS.eventQueue,
          describe: 'drain Events that may wait for the rate limit; more are dropped (herald_drain_events_dropped_total)',
          group: 'Drain receipts:',
        })
        .option('replica-name', { type: 'string', describe: 'this replica in drain receipts and Events (default: $POD_NAME, else the host name)', group: 'Drain receipts:' })
        .option('tls-trust-domain', {
          type: 'string',
          array: true,
          describe: 'TRUST_DOMAIN=KUBE_CLUSTER (repeatable): SPIFFE trust domains accepted from client certificates, and the kube cluster each stands for',
        }),
    handler: async (argv) => {
      const config = buildServeConfig(argv as Record<string, unknown>);
      const shutdown = shutdownSettings(argv as Record<string, unknown>);
      const drains = buildDrainConfig(argv as Record<string, unknown>);
      const policyStatus = buildPolicyStatusConfig(argv as Record<string, unknown>);
      const logger = createLogger({ level: config.logLevel, pretty: stdoutIsTerminal() });
      const metrics = new HeraldMetrics();
      const tls = tlsReloader(config, logger, metrics);
      const sources = config.clusters.map(
        (cluster) =>
          new KubeClusterSource({
            name: cluster.name,
            kubeConfig: cluster.kubeConfig,
            serviceLabel: config.serviceLabel,
            serviceScope: config.serviceScope,
            namespaces: config.namespaces,
            portName: config.portName,
            defaultPort: config.defaultPort,
            metrics,
            logger,
            clock: systemClock,
          }),
      );
      const policySources = config.policyClusters.map((name) => {
        const cluster = config.clusters.find((c) => c.name === name)!;
        return new KubePolicySource({ name, kubeConfig: cluster.kubeConfig, logger });
      });
      if (config.serviceScope === 'mesh') logger.info('ServicePolicies are not read with --service-scope mesh');
      const daemon = await startDaemon(
        {
          sources,
          policies: { sources: policySources, clusters: config.policyClusters, namespace: config.policyNamespace },
          localCluster: config.localCluster,
          includeNotReady: config.includeNotReady,
          clusterDomain: config.clusterDomain,
          batchWindowMs: config.batchWindowMs,
          initialSyncTimeoutMs: config.initialSyncTimeoutMs,
          xds: {
            host: config.xdsHost,
            port: config.xdsPort,
            maxConnectionAgeMs: config.maxConnectionAgeMs,
            grpcFastPath: config.grpcFastPath,
            limits: config.limits,
            credentials: tls ? tls.credentials() : grpc.ServerCredentials.createInsecure(),
            // With client certificates required, each certificate binds the node it may claim.
            clientIdentity: config.tls?.requireClientCert ? { trustDomains: config.tls.trustDomains } : undefined,
          },
          admin: { host: config.adminHost, port: config.adminPort, allowedHosts: config.adminAllowedHosts },
          adminToken: config.adminToken,
          handoffDelayMs: shutdown.handoffDelayMs,
          drainTimeoutMs: drains.drainTimeoutMs,
          replicaName: drains.replicaName,
          drainEvents: drains.events && {
            ...drains.events,
            // Each pod's Event goes to its own cluster, with the credentials Herald watches it with.
            send: kubeEventWriter({ apis: new Map(config.clusters.map((c) => [c.name, c.kubeConfig.makeApiClient(EventsV1Api)])), replica: drains.replicaName }),
          },
          policyStatus: policyStatus && {
            ...policyStatus,
            // Each object's status goes to the cluster it was read from, with the credentials it was read with.
            send: kubePolicyStatusWriter(
              new Map(policySources.map((source) => [source.name, config.clusters.find((c) => c.name === source.name)!.kubeConfig.makeApiClient(CustomObjectsApi)])),
            ),
          },
        },
        { logger, metrics },
      );
      await runUntilSignalled(daemon, logger, shutdown.graceMs);
      tls?.close();
      setExitCode(0);
    },
  };
}
