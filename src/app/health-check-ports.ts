// A ServicePolicy's healthCheck.portName names a container port; a pod that lacks it is
// health-checked on its traffic port instead, which may not answer the check the way the named
// port would. That is worth an operator's attention, once per service rather than per pod.
import type { EndpointRecord, ServicePolicySpec } from '../model/index.js';
import { unresolvedHealthCheckPorts } from '../resources/index.js';
import { LogOnce, type HeraldMetrics, type Logger } from '../telemetry/index.js';

/** Pods named in the log line; the gauge has the full count. */
const LOGGED_PODS = 5;

interface Unresolved {
  portName: string;
  endpoints: number;
}

/**
 * Per service, the endpoints its healthCheck.portName does not resolve for: a gauge series
 * while there are any, a warning when a service starts having them (or its port name changes),
 * a line when they are gone, each line at most once per service and port name in 10 minutes. Counts moving with each pod change are the gauge's, not the log's.
 */
export class HealthCheckPortReport {
  private readonly unresolved = new Map<string, Unresolved>();
  /** A pod that keeps leaving and rejoining a service (a crash loop) must not buy a line each time: once per service and port name per window. */
  private readonly logOnce = new LogOnce();

  constructor(private readonly deps: { metrics: HeraldMetrics; logger: Logger }) {}

  /** After a build of `service` (endpoints undefined: it is gone). */
  note(service: string, policy: ServicePolicySpec, endpoints: readonly EndpointRecord[] | undefined): void {
    const missing = endpoints === undefined ? [] : unresolvedHealthCheckPorts(endpoints, policy);
    const before = this.unresolved.get(service);
    const portName = policy.healthCheck?.portName;
    if (missing.length === 0 || portName === undefined) {
      if (before === undefined) return;
      this.unresolved.delete(service);
      this.deps.metrics.healthCheckPortUnresolved.remove({ service, port_name: before.portName });
      if (this.logOnce.shouldLog(`resolved ${service} ${before.portName}`)) {
        this.deps.logger.info({ service, port_name: before.portName }, 'health check port name resolves for every endpoint, or the policy names none');
      }
      return;
    }
    if (before !== undefined && before.portName !== portName) this.deps.metrics.healthCheckPortUnresolved.remove({ service, port_name: before.portName });
    this.deps.metrics.healthCheckPortUnresolved.set({ service, port_name: portName }, missing.length);
    this.unresolved.set(service, { portName, endpoints: missing.length });
    if (before?.portName === portName || !this.logOnce.shouldLog(`unresolved ${service} ${portName}`)) return;
    this.deps.logger.warn(
      { service, port_name: portName, endpoints: missing.length, pods: missing.slice(0, LOGGED_PODS).map((e) => `${e.cluster}/${e.podKey}`) },
      'pods without the container port named by healthCheck.portName: Envoy health-checks them on their traffic port',
    );
  }

  /** The services with unresolved endpoints now, for the debug pages. */
  current(): ReadonlyMap<string, Readonly<Unresolved>> {
    return this.unresolved;
  }
}
