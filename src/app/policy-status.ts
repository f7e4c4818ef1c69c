import { EventQueue } from '../drains/index.js';
import type { AcceptedCondition, Clock, PolicyObject } from '../model/index.js';
import { acceptedCondition, shouldWriteAccepted, type PolicyRegistry } from '../policy/index.js';
import type { PolicySink } from '../sources/types.js';
import { LogOnce, type HeraldMetrics, type Logger } from '../telemetry/index.js';

/** One status write: the Accepted condition for one cluster's copy of a ServicePolicy. */
export interface PolicyStatusWrite {
  cluster: string;
  namespace: string;
  name: string;
  condition: AcceptedCondition;
}

export interface PolicyStatusOptions {
  /** Patches the object's status subresource in its own cluster (kubePolicyStatusWriter, or a fake in tests). */
  send: (write: PolicyStatusWrite) => Promise<void>;
  /** Writes per second on average, and at once after a quiet spell. */
  perSecond: number;
  burst: number;
  /** Objects that may wait for the rate limit; more are dropped and counted (written at their next change). */
  capacity: number;
}

export interface PolicyStatusDeps {
  registry: PolicyRegistry;
  clock: Clock;
  metrics: Pick<HeraldMetrics, 'policyStatusWrites'>;
  logger: Logger;
  replica: string;
  /** The kube cluster this replica runs in (--local-cluster), named in the status beside the replica. */
  localCluster?: string | undefined;
}

const keyOf = (cluster: string, namespace: string, name: string): string => `${cluster}/${namespace}/${name}`;

/**
 * Stands between the policy sources and the registry: every object goes on to the registry as
 * it is, and when the verdict on its newest generation is not what its status says, the
 * condition is queued for writing (token bucket, bounded queue, one entry per object however
 * often it changes). Only objects this replica reads are written, in the cluster they came from.
 */
export class PolicyStatusWriter implements PolicySink {
  /** Per copy this replica reads: the Accepted condition its status carries, as last seen. */
  private readonly seen = new Map<string, AcceptedCondition | undefined>();
  private readonly queue: EventQueue<PolicyStatusWrite>;
  private readonly failureLog = new LogOnce(60_000);
  private readonly writer: AcceptedCondition['writer'];

  constructor(
    options: PolicyStatusOptions,
    private readonly deps: PolicyStatusDeps,
  ) {
    this.writer = { replica: deps.replica, ...(deps.localCluster === undefined ? {} : { cluster: deps.localCluster }) };
    const { metrics, logger } = deps;
    const { perSecond, burst, capacity } = options;
    this.queue = new EventQueue<PolicyStatusWrite>({
      ...{ clock: deps.clock, perSecond, burst, capacity },
      onDrop: (reason, count) => {
        metrics.policyStatusWrites.inc({ result: 'dropped' }, count);
        if (this.failureLog.shouldLog(`drop ${reason}`)) logger.warn({ reason, count }, 'ServicePolicy status writes dropped (see herald_policy_status_writes_total)');
      },
      send: async ({ latest: write }) => {
        const key = keyOf(write.cluster, write.namespace, write.name);
        // What the object says may have changed while this waited (another replica wrote, or
        // the object went away): check again so a write is never wasted or out of date.
        if (!this.seen.has(key) || !shouldWriteAccepted(this.seen.get(key), write.condition, deps.replica)) return;
        try {
          await options.send(write);
          this.seen.set(key, write.condition);
          metrics.policyStatusWrites.inc({ result: 'written' });
        } catch (err) {
          metrics.policyStatusWrites.inc({ result: 'failed' });
          const status = (err as { code?: number }).code;
          if (this.failureLog.shouldLog(`fail ${write.cluster} ${status}`)) {
            logger.warn({ err, kube_cluster: write.cluster, status }, 'could not write a ServicePolicy status (does Herald have the policy-status RBAC?)');
          }
        }
      },
    });
  }

  applyPolicy(policy: PolicyObject): void {
    this.deps.registry.applyPolicy(policy);
    this.observe(policy);
  }

  removePolicy(cluster: string, namespace: string, name: string): void {
    this.deps.registry.removePolicy(cluster, namespace, name);
    this.seen.delete(keyOf(cluster, namespace, name));
  }

  replacePolicies(cluster: string, policies: PolicyObject[]): void {
    this.deps.registry.replacePolicies(cluster, policies);
    this.forgetCluster(cluster);
    for (const policy of policies) this.observe(policy);
  }

  policiesUnavailable(cluster: string, reason: string): void {
    this.deps.registry.policiesUnavailable(cluster, reason);
    this.forgetCluster(cluster);
  }

  policiesUnreachable(cluster: string, reason: string | undefined): void {
    this.deps.registry.policiesUnreachable(cluster, reason);
  }

  close(): void {
    this.queue.close();
  }

  private forgetCluster(cluster: string): void {
    for (const key of this.seen.keys()) if (key.startsWith(`${cluster}/`)) this.seen.delete(key);
  }

  private observe(policy: PolicyObject): void {
    const verdict = this.deps.registry.verdict(policy.cluster, policy.namespace, policy.name);
    // No verdict: a cluster this replica does not read policies from.
    if (verdict === undefined || verdict.generation !== policy.generation) return;
    const key = keyOf(policy.cluster, policy.namespace, policy.name);
    this.seen.set(key, policy.accepted);
    const want = acceptedCondition(verdict, this.writer, policy.accepted, new Date(this.deps.clock()).toISOString());
    if (shouldWriteAccepted(policy.accepted, want, this.deps.replica)) this.queue.push(key, { cluster: policy.cluster, namespace: policy.namespace, name: policy.name, condition: want });
  }
}
