import { positive } from './drains.js';
import { validateBoolean } from './values.js';

/** --policy-status: how fast each replica may write ServicePolicy status conditions. */
export interface PolicyStatusConfig {
  perSecond: number;
  burst: number;
  capacity: number;
}

export const POLICY_STATUS_DEFAULTS = { perSecond: 5, burst: 20, capacity: 10_000 } as const;

/** Undefined when --policy-status is off; throws ConfigError on a bad value. */
export function buildPolicyStatusConfig(raw: Record<string, unknown>): PolicyStatusConfig | undefined {
  if (!validateBoolean('--policy-status', raw['policyStatus'] ?? false)) return undefined;
  return {
    perSecond: positive('--policy-status-qps', raw['policyStatusQps'] ?? POLICY_STATUS_DEFAULTS.perSecond, false, 1_000),
    burst: POLICY_STATUS_DEFAULTS.burst,
    capacity: POLICY_STATUS_DEFAULTS.capacity,
  };
}
