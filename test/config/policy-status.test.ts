import { describe, expect, it } from 'vitest';
import { buildPolicyStatusConfig, ConfigError, POLICY_STATUS_DEFAULTS } from '../../src/config/index.js';

describe('--policy-status', () => {
  it('is off unless asked for', () => {
    expect(buildPolicyStatusConfig({})).toBeUndefined();
    expect(buildPolicyStatusConfig({ policyStatus: false, policyStatusQps: 3 })).toBeUndefined();
  });

  it('takes a rate, with a bounded burst and queue', () => {
    expect(buildPolicyStatusConfig({ policyStatus: true })).toEqual({ ...POLICY_STATUS_DEFAULTS });
    expect(buildPolicyStatusConfig({ policyStatus: 'true', policyStatusQps: '0.5' })).toEqual({ ...POLICY_STATUS_DEFAULTS, perSecond: 0.5 });
  });

  it.each([
    [{ policyStatus: true, policyStatusQps: 0 }, /--policy-status-qps/],
    [{ policyStatus: true, policyStatusQps: 'fast' }, /--policy-status-qps/],
    [{ policyStatus: 'maybe' }, /--policy-status/],
  ])('refuses %j', (raw, message) => {
    expect(() => buildPolicyStatusConfig(raw)).toThrow(ConfigError);
    expect(() => buildPolicyStatusConfig(raw)).toThrow(message);
  });
});
