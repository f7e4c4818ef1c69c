import { CustomObjectsApi, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { AcceptedCondition, PolicyObject } from '../../model/index.js';
import type { Logger } from '../../telemetry/index.js';
import type { PolicySink, PolicySource } from '../types.js';
import { describeKubeError, httpStatusOf } from './errors.js';
import { InformerLoop } from './informer-loop.js';

export const POLICY_GROUP = 'herald.io';
export const POLICY_VERSION = 'v1alpha1';
export const POLICY_PLURAL = 'servicepolicies';
/** The status condition Herald writes with --policy-status. */
export const ACCEPTED_CONDITION = 'Accepted';

interface ServicePolicyObject extends KubernetesObject {
  spec?: unknown;
  status?: unknown;
}

export interface KubePolicySourceOptions {
  name: string;
  kubeConfig: KubeConfig;
  logger: Logger;
  backoff?: { initialMs: number; maxMs: number };
  random?: () => number;
  listTimeoutMs?: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * The Accepted condition of a ServicePolicy's status, with who wrote it. Anything malformed reads
 * as no condition, which only makes Herald write a correct one.
 */
export function acceptedOf(status: unknown): AcceptedCondition | undefined {
  if (!isRecord(status) || !Array.isArray(status['conditions'])) return undefined;
  const c: unknown = status['conditions'].find((x: unknown) => isRecord(x) && x['type'] === ACCEPTED_CONDITION);
  if (!isRecord(c) || (c['status'] !== 'True' && c['status'] !== 'False') || typeof c['observedGeneration'] !== 'number') return undefined;
  const by = isRecord(status['acceptedBy']) ? status['acceptedBy'] : {};
  return {
    status: c['status'],
    reason: text(c['reason']),
    message: text(c['message']),
    observedGeneration: c['observedGeneration'],
    lastTransitionTime: text(c['lastTransitionTime']),
    writer: { replica: text(by['replica']), ...(typeof by['cluster'] === 'string' ? { cluster: by['cluster'] } : {}) },
  };
}

export function toPolicyObject(cluster: string, obj: ServicePolicyObject): PolicyObject {
  return {
    cluster,
    namespace: obj.metadata?.namespace ?? '',
    name: obj.metadata?.name ?? '',
    // The apiserver sets generation on every custom object; 0 stands for "never told".
    generation: obj.metadata?.generation ?? 0,
    spec: obj.spec,
    accepted: acceptedOf(obj.status),
  };
}

/**
 * The ServicePolicies of one kube cluster (every namespace), listed and watched. A cluster
 * without the CRD answers 404: it contributes nothing, says so once, and is asked again with the
 * informer's backoff so installing the CRD later is picked up. Any other failure (unreachable,
 * forbidden) keeps the policies last read from it, as endpoints are kept.
 */
export class KubePolicySource implements PolicySource {
  readonly name: string;
  private readonly loop: InformerLoop<ServicePolicyObject>;
  private readonly logger: Logger;
  private sink: PolicySink | undefined;
  private lastError: string | undefined;

  constructor(options: KubePolicySourceOptions) {
    this.name = options.name;
    this.logger = options.logger.child({ kube_cluster: options.name });
    const api = options.kubeConfig.makeApiClient(CustomObjectsApi);
    const cluster = options.name;
    this.loop = new InformerLoop<ServicePolicyObject>({
      kubeConfig: options.kubeConfig,
      path: `/apis/${POLICY_GROUP}/${POLICY_VERSION}/${POLICY_PLURAL}?allowWatchBookmarks=true`,
      list: async () => (await api.listClusterCustomObject({ group: POLICY_GROUP, version: POLICY_VERSION, plural: POLICY_PLURAL })) as KubernetesListObject<ServicePolicyObject>,
      backoff: options.backoff ?? { initialMs: 1000, maxMs: 30_000 },
      random: options.random ?? Math.random,
      ...(options.listTimeoutMs === undefined ? {} : { listTimeoutMs: options.listTimeoutMs }),
      hooks: {
        onListed: (items) =>
          this.sink?.replacePolicies(
            cluster,
            items.map((item) => toPolicyObject(cluster, item)),
          ),
        onAdd: (obj) => this.sink?.applyPolicy(toPolicyObject(cluster, obj)),
        onUpdate: (obj) => this.sink?.applyPolicy(toPolicyObject(cluster, obj)),
        onDelete: (obj) => this.sink?.removePolicy(cluster, obj.metadata?.namespace ?? '', obj.metadata?.name ?? ''),
        onHealthy: () => {
          this.lastError = undefined;
          this.sink?.policiesUnreachable(cluster, undefined);
        },
        onError: (error, operation, retryInMs) => {
          if (httpStatusOf(error) === 404) {
            this.sink?.policiesUnavailable(cluster, `no ServicePolicy CRD (${POLICY_PLURAL}.${POLICY_GROUP}/${POLICY_VERSION}) installed`);
            return;
          }
          const message = `${describeKubeError(cluster, operation, 'servicepolicy', error)}; keeping the last known ServicePolicies`;
          if (message !== this.lastError) this.logger.warn({ retryInMs }, message);
          this.lastError = message;
          this.sink?.policiesUnreachable(cluster, message);
        },
        onRestart: () => undefined,
      },
    });
  }

  start(sink: PolicySink): void {
    this.sink = sink;
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    this.sink = undefined;
  }
}
