import type { EndpointHealth, PodRecord } from '../model/index.js';

/** Why a pod observation gives no endpoint. */
export type SkipReason = 'no_service' | 'terminal_phase' | 'no_ip' | 'no_port' | 'not_ready';

export type EndpointDecision = { kind: 'endpoint'; health: EndpointHealth } | { kind: 'skip'; reason: SkipReason };

export interface HealthOptions {
  /** Send not-Ready pods as UNHEALTHY instead of leaving them out. */
  includeNotReady: boolean;
}

const TERMINAL_PHASES: ReadonlySet<string> = new Set(['Succeeded', 'Failed']);

/** A finished pod may still report its old IP, which the network can already have given to someone else. */
export function isTerminalPhase(phase: string): boolean {
  return TERMINAL_PHASES.has(phase);
}

/**
 * What one pod means for the mesh, from its newest state alone. Terminating wins over Ready
 * because the kubelet can leave Ready=True during shutdown, and Envoy must hear DRAINING
 * within the grace period, not after it.
 */
export function endpointForPod(pod: PodRecord, options: HealthOptions): EndpointDecision {
  if (pod.service === undefined || pod.service === '') return { kind: 'skip', reason: 'no_service' };
  if (isTerminalPhase(pod.phase)) return { kind: 'skip', reason: 'terminal_phase' };
  if (pod.ip === undefined || pod.ip === '') return { kind: 'skip', reason: 'no_ip' };
  if (!isUsablePort(pod.port)) return { kind: 'skip', reason: 'no_port' };
  if (pod.terminating) return { kind: 'endpoint', health: 'DRAINING' };
  if (pod.ready) return { kind: 'endpoint', health: 'HEALTHY' };
  if (options.includeNotReady) return { kind: 'endpoint', health: 'UNHEALTHY' };
  return { kind: 'skip', reason: 'not_ready' };
}

function isUsablePort(port: number | undefined): port is number {
  return port !== undefined && Number.isInteger(port) && port > 0 && port <= 65535;
}
