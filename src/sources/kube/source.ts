import { CoreV1Api, type KubeConfig, type V1Node, type V1Pod } from '@kubernetes/client-node';
import type { ClusterStatus, Clock, ServiceScope } from '../../model/index.js';
import { LogOnce, type HeraldMetrics, type Logger } from '../../telemetry/index.js';
import type { ClusterSource, SourceSink } from '../types.js';
import { describeKubeError } from './errors.js';
import { CredentialWatcher, isReloadable, type ReloadableKubeConfig } from './credentials.js';
import { InformerLoop, type KubeOperation } from './informer-loop.js';
import { translateNode, translatePod, translatePodKey, type PodTranslateOptions } from './translate.js';

export interface KubeClusterSourceOptions {
  name: string;
  kubeConfig: KubeConfig;
  serviceLabel: string;
  /** How pods are grouped into services (see serviceName); default `namespace`. */
  serviceScope?: ServiceScope;
  /** Watch only these namespaces' pods; empty or absent = every namespace. */
  namespaces?: readonly string[];
  portName: string;
  defaultPort?: number | undefined;
  metrics: HeraldMetrics;
  logger: Logger;
  clock: Clock;
  /** Restart delay after an informer error: doubles from initialMs up to maxMs, jittered. */
  backoff?: { initialMs: number; maxMs: number };
  /** Jitter source in [0, 1); injectable for tests. */
  random?: () => number;
  /** How long a list may take before it counts as failed (default 60 s). */
  listTimeoutMs?: number;
  /** Options of the credential file watch (for a kubeconfig loaded from a file); tests shorten them. */
  credentialWatch?: { pollIntervalMs?: number; settleMs?: number };
}

type Kind = 'pod' | 'node';

/** One list/watch: the nodes, or the pods of one namespace (undefined: of every namespace). */
interface WatchState {
  kind: Kind;
  namespace: string | undefined;
  listed: boolean;
  error: string | undefined;
}

// Bookmarks keep the resourceVersion fresh on quiet clusters, so a reconnect resumes instead of
// hitting 410 and relisting everything.
const BOOKMARKS = '?allowWatchBookmarks=true';
const NODE_PATH = `/api/v1/nodes${BOOKMARKS}`;

function podPath(namespace: string | undefined): string {
  return namespace === undefined ? `/api/v1/pods${BOOKMARKS}` : `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods${BOOKMARKS}`;
}

/**
 * Pods (those carrying the service label) and Nodes of one Kubernetes cluster, delivered to the
 * store as translated records. Keeps the store's endpoints when the API becomes unreachable;
 * reconciles them with a full replacement after every (re)list. With namespaces given, pods are
 * listed and watched per namespace (a namespaced Role is then enough for pods).
 */
export class KubeClusterSource implements ClusterSource {
  readonly name: string;
  private readonly options: KubeClusterSourceOptions;
  private readonly translateOptions: PodTranslateOptions;
  private readonly logger: Logger;
  private readonly pods: { loop: InformerLoop<V1Pod>; list: (api: CoreV1Api) => ReturnType<CoreV1Api['listPodForAllNamespaces']> }[];
  private readonly nodes: InformerLoop<V1Node>;
  private readonly watches: WatchState[] = [];
  private sink: SourceSink | undefined;
  private current: ClusterStatus;
  /** Shown in every status: which namespaces this cluster's pods come from. */
  private readonly scope: Pick<ClusterStatus, 'namespaces'>;
  /** One warning per service and ignored app-protocol reason per window, not one per pod event. */
  private readonly ignoredProtocols = new LogOnce();
  private kubeConfig: KubeConfig;
  private credentials: CredentialWatcher | undefined;
  /** Reconnects run one after the other: a second rotation waits for the first. */
  private reconnecting: Promise<void> = Promise.resolve();

  constructor(options: KubeClusterSourceOptions) {
    this.name = options.name;
    this.options = options;
    this.logger = options.logger.child({ kube_cluster: options.name });
    this.translateOptions = {
      cluster: options.name,
      serviceLabel: options.serviceLabel,
      serviceScope: options.serviceScope ?? 'namespace',
      portName: options.portName,
      defaultPort: options.defaultPort,
    };
    const namespaces = options.namespaces !== undefined && options.namespaces.length > 0 ? [...new Set(options.namespaces)].sort() : undefined;
    this.scope = namespaces === undefined ? {} : { namespaces };
    this.current = { cluster: options.name, state: 'syncing', everSynced: false, lastError: undefined, lastChangeMs: options.clock(), ...this.scope };
    this.kubeConfig = options.kubeConfig;
    const api = options.kubeConfig.makeApiClient(CoreV1Api);
    const backoff = options.backoff ?? { initialMs: 1000, maxMs: 30_000 };
    const random = options.random ?? Math.random;
    const listTimeoutMs = options.listTimeoutMs;
    const events = options.metrics.kubeEvents;
    const cluster = options.name;
    const labelSelector = options.serviceLabel;

    this.pods = (namespaces ?? [undefined]).map((namespace) => {
      const watch = this.track('pod', namespace);
      const list = (client: CoreV1Api) => (namespace === undefined ? client.listPodForAllNamespaces({ labelSelector }) : client.listNamespacedPod({ namespace, labelSelector }));
      const loop = new InformerLoop<V1Pod>({
        kubeConfig: options.kubeConfig,
        path: podPath(namespace),
        // An existence selector: only pods that belong to some service.
        labelSelector,
        list: () => list(api),
        backoff,
        random,
        listTimeoutMs,
        hooks: {
          // A list covers one namespace; the store replaces the cluster's pods as a whole, so
          // it gets every namespace's newest state, this one's fresh from the list.
          onListed: () => this.withSink((sink) => sink.replacePods(cluster, this.allPods())),
          onAdd: (pod) => {
            events.inc({ kube_cluster: cluster, kind: 'pod', type: 'add' });
            this.withSink((sink) => sink.applyPod(this.translate(pod)));
          },
          onUpdate: (pod) => {
            events.inc({ kube_cluster: cluster, kind: 'pod', type: 'update' });
            this.withSink((sink) => sink.applyPod(this.translate(pod)));
          },
          onDelete: (pod) => {
            events.inc({ kube_cluster: cluster, kind: 'pod', type: 'delete' });
            this.withSink((sink) => sink.removePod(cluster, translatePodKey(pod)));
          },
          onHealthy: () => this.healthy(watch),
          onError: (error, operation, retryInMs) => this.failed(watch, error, operation, retryInMs),
          onRestart: () => options.metrics.kubeWatchRestarts.inc({ kube_cluster: cluster, kind: 'pod' }),
        },
      });
      return { loop, list };
    });

    const nodeWatch = this.track('node', undefined);
    this.nodes = new InformerLoop<V1Node>({
      kubeConfig: options.kubeConfig,
      path: NODE_PATH,
      list: () => api.listNode(),
      backoff,
      random,
      listTimeoutMs,
      hooks: {
        onListed: (items) =>
          this.withSink((sink) =>
            sink.replaceNodes(
              cluster,
              items.map((node) => translateNode(node, cluster)),
            ),
          ),
        onAdd: (node) => {
          events.inc({ kube_cluster: cluster, kind: 'node', type: 'add' });
          this.withSink((sink) => sink.applyNode(translateNode(node, cluster)));
        },
        onUpdate: (node) => {
          events.inc({ kube_cluster: cluster, kind: 'node', type: 'update' });
          this.withSink((sink) => sink.applyNode(translateNode(node, cluster)));
        },
        onDelete: (node) => {
          events.inc({ kube_cluster: cluster, kind: 'node', type: 'delete' });
          this.withSink((sink) => sink.removeNode(cluster, node.metadata?.name ?? ''));
        },
        onHealthy: () => this.healthy(nodeWatch),
        onError: (error, operation, retryInMs) => this.failed(nodeWatch, error, operation, retryInMs),
        onRestart: () => options.metrics.kubeWatchRestarts.inc({ kube_cluster: cluster, kind: 'node' }),
      },
    });
  }

  async start(sink: SourceSink): Promise<void> {
    this.sink = sink;
    this.options.metrics.kubeClusterSynced.set({ kube_cluster: this.name }, 0);
    sink.setClusterStatus({ ...this.current });
    // Nodes first: their zones are then known when the pods arrive.
    this.nodes.start();
    for (const { loop } of this.pods) loop.start();
    this.followCredentials();
  }

  async stop(): Promise<void> {
    this.credentials?.close();
    this.credentials = undefined;
    await this.reconnecting;
    await Promise.all([...this.pods.map(({ loop }) => loop.stop()), this.nodes.stop()]);
    this.sink = undefined;
  }

  /**
   * Goes on with new credentials: every list/watch starts again on `kubeConfig`. The store keeps
   * this cluster's endpoints meanwhile (xDS goes on serving them), and each new list replaces
   * them whole, so whatever changed while reconnecting is reconciled and nothing is lost.
   */
  reconnect(kubeConfig: KubeConfig): Promise<void> {
    const next = this.reconnecting.then(async () => {
      this.kubeConfig = kubeConfig;
      const api = kubeConfig.makeApiClient(CoreV1Api);
      await Promise.all([this.nodes.reconnect(kubeConfig, () => api.listNode()), ...this.pods.map(({ loop, list }) => loop.reconnect(kubeConfig, () => list(api)))]);
    });
    this.reconnecting = next.catch(() => undefined);
    return next;
  }

  /** For a kubeconfig loaded from files: reconnect when they change (a rotated Secret). */
  private followCredentials(): void {
    if (this.credentials !== undefined || !isReloadable(this.kubeConfig)) return;
    this.credentials = new CredentialWatcher({
      files: () => (isReloadable(this.kubeConfig) ? this.kubeConfig.credentialFiles() : []),
      onChange: () => this.credentialsChanged(),
      onWatchError: (err, dir) => this.logger.warn({ err, dir }, 'kubeconfig watch failed; the files are still re-read periodically'),
      ...this.options.credentialWatch,
    });
  }

  private credentialsChanged(): void {
    const current = this.kubeConfig as ReloadableKubeConfig;
    let next: ReloadableKubeConfig;
    try {
      next = current.reload();
    } catch (error) {
      this.options.metrics.kubeCredentialReloads.inc({ kube_cluster: this.name, result: 'failed' });
      this.logger.warn(
        { error: error instanceof Error ? error.message : String(error) },
        `cluster ${this.name}: kubeconfig changed but does not load; going on with the previous credentials`,
      );
      return;
    }
    this.options.metrics.kubeCredentialReloads.inc({ kube_cluster: this.name, result: 'reconnected' });
    this.logger.info(`cluster ${this.name}: kubeconfig changed; reconnecting with the new credentials (the last endpoints are served until the new list)`);
    this.kubeConfig = next;
    this.reconnect(next).catch((error: unknown) => this.logger.warn({ err: error }, `cluster ${this.name}: reconnect failed`));
  }

  status(): ClusterStatus {
    return { ...this.current };
  }

  private translate(pod: V1Pod) {
    const record = translatePod(pod, this.translateOptions);
    const ignored = record.protocol?.ignored;
    if (ignored !== undefined && this.ignoredProtocols.shouldLog(`${record.service ?? ''}\n${ignored}`)) {
      this.logger.warn({ service: record.service, pod: `${record.namespace}/${record.name}` }, `${ignored}; the port name or HTTP/1.1 decides`);
    }
    return record;
  }

  /** What the mesh keeps of this cluster while its API cannot be reached, as a log line says it. */
  private whatIsKept(): string {
    const pods = this.pods.reduce((sum, { loop }) => sum + loop.items().length, 0);
    if (pods > 0) return `keeping the last known endpoints (${pods} pod${pods === 1 ? '' : 's'})`;
    return this.current.everSynced ? 'it had no pods in the mesh to keep; retrying' : 'no endpoints are known from it yet; retrying';
  }

  private allPods() {
    return this.pods.flatMap(({ loop }) => loop.items().map((pod) => this.translate(pod)));
  }

  private track(kind: Kind, namespace: string | undefined): WatchState {
    const watch: WatchState = { kind, namespace, listed: false, error: undefined };
    this.watches.push(watch);
    return watch;
  }

  private withSink(action: (sink: SourceSink) => void): void {
    if (this.sink !== undefined) action(this.sink);
  }

  private healthy(watch: WatchState): void {
    watch.listed = true;
    watch.error = undefined;
    this.update(undefined);
  }

  private failed(watch: WatchState, error: unknown, operation: KubeOperation, retryInMs: number): void {
    const message = describeKubeError(this.name, operation, watch.kind, error, watch.namespace);
    const repeated = watch.error === message;
    watch.error = message;
    if (repeated) this.logger.debug({ retryInMs }, message);
    this.update(message, retryInMs);
  }

  /** Recomputes the cluster state from both kinds and reports transitions once. */
  private update(newError: string | undefined, retryInMs?: number): void {
    // A pod watch's error first, as the pods are what the mesh loses.
    const error = this.watches.find((w) => w.kind === 'pod' && w.error !== undefined)?.error ?? this.watches.find((w) => w.error !== undefined)?.error;
    const state = error !== undefined ? 'unreachable' : this.watches.every((w) => w.listed) ? 'synced' : 'syncing';
    const lastError = newError ?? this.current.lastError;
    if (state === this.current.state && lastError === this.current.lastError) return;
    const previous = this.current;
    this.current = {
      cluster: this.name,
      state,
      everSynced: previous.everSynced || state === 'synced',
      lastError,
      lastChangeMs: this.options.clock(),
      ...this.scope,
    };
    if (state === 'unreachable' && previous.state === 'unreachable' && newError !== undefined) {
      this.logger.warn({ retryInMs }, `${newError}; ${this.whatIsKept()}`);
    }
    if (state !== previous.state) {
      if (state === 'unreachable') this.logger.warn({ retryInMs }, `${error}; ${this.whatIsKept()}`);
      else if (state === 'synced' && previous.everSynced) this.logger.info(`cluster ${this.name}: API reachable again; watches resumed (a relist reconciles if the watch had expired)`);
      else if (state === 'synced') this.logger.info(`cluster ${this.name}: synced`);
      this.options.metrics.kubeClusterSynced.set({ kube_cluster: this.name }, state === 'synced' ? 1 : 0);
    }
    this.withSink((sink) => sink.setClusterStatus({ ...this.current }));
  }
}
