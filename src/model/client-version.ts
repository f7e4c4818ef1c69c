// Which Envoy versions handle Herald's DRAINING endpoints the way Herald needs.

/**
 * The first Envoy release that, by default, leaves EDS-DRAINING hosts out of the panic,
 * priority-spillover and locality-weight arithmetic: 1.30.0 (its changelog, under
 * minor_behavior_changes/upstream; envoyproxy/envoy PR 30622, behind the runtime guard
 * envoy.reloadable_features.exclude_host_in_eds_status_draining, default on; the guard and the
 * old path were removed in 1.33.0 by PR 37185). An older Envoy counts a DRAINING host as
 * unhealthy, so scaling a service down by more than half can spill traffic to other priorities
 * or send it, in panic, to the very pods being drained.
 */
export const MIN_ENVOY_VERSION = '1.30.0';

/** 'ok': at or above MIN_ENVOY_VERSION; 'old': below it; 'unknown': an Envoy that sent no version. */
export type EnvoySupport = 'ok' | 'old' | 'unknown';

export const ENVOY_SUPPORT_VALUES: readonly EnvoySupport[] = ['ok', 'old', 'unknown'];

/** "1.33.2" → [1, 33, 2]; a missing minor or patch counts as 0; anything else → undefined. */
export function parseVersion(text: string): [number, number, number] | undefined {
  const match = /^v?(\d{1,9})(?:\.(\d{1,9}))?(?:\.(\d{1,9}))?(?:[-+].*)?$/.exec(text.trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

const MIN = parseVersion(MIN_ENVOY_VERSION)!;

/**
 * How an xDS client handles DRAINING endpoints, from what its Node says: undefined for anything
 * but Envoy (gRPC's xDS clients never pick a DRAINING endpoint, whatever their version).
 */
export function envoySupport(client: { userAgent: string; userAgentVersion?: string | undefined } | undefined): EnvoySupport | undefined {
  if (!client || client.userAgent.toLowerCase() !== 'envoy') return undefined;
  const version = client.userAgentVersion === undefined ? undefined : parseVersion(client.userAgentVersion);
  if (!version) return 'unknown';
  return compare(version, MIN) < 0 ? 'old' : 'ok';
}
