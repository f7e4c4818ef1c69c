import { describe, expect, it } from 'vitest';
import { endpointForPod, type EndpointDecision } from '../../src/store/health.js';
import { pod } from './fixtures.js';

const healthy: EndpointDecision = { kind: 'endpoint', health: 'HEALTHY' };
const draining: EndpointDecision = { kind: 'endpoint', health: 'DRAINING' };
const unhealthy: EndpointDecision = { kind: 'endpoint', health: 'UNHEALTHY' };
const skip = (reason: string): EndpointDecision => ({ kind: 'skip', reason }) as EndpointDecision;

describe('endpointForPod', () => {
  const cases: { name: string; pod: Parameters<typeof pod>[0]; includeNotReady?: boolean; want: EndpointDecision }[] = [
    { name: 'ready pod with IP', pod: {}, want: healthy },
    { name: 'not ready pod is left out', pod: { ready: false }, want: skip('not_ready') },
    { name: 'not ready pod as UNHEALTHY when asked', pod: { ready: false }, includeNotReady: true, want: unhealthy },
    { name: 'terminating and still Ready drains', pod: { terminating: true, gracePeriodSeconds: 30 }, want: draining },
    { name: 'terminating and not Ready drains', pod: { terminating: true, ready: false }, want: draining },
    { name: 'terminating not-Ready drains with includeNotReady', pod: { terminating: true, ready: false }, includeNotReady: true, want: draining },
    { name: 'terminating in phase Pending with IP drains', pod: { terminating: true, phase: 'Pending' }, want: draining },
    { name: 'Succeeded is removed', pod: { phase: 'Succeeded' }, want: skip('terminal_phase') },
    { name: 'Failed is removed', pod: { phase: 'Failed', ready: false }, want: skip('terminal_phase') },
    { name: 'terminating and Failed is removed', pod: { phase: 'Failed', terminating: true }, want: skip('terminal_phase') },
    { name: 'no IP', pod: { ip: undefined }, want: skip('no_ip') },
    { name: 'empty IP', pod: { ip: '' }, want: skip('no_ip') },
    { name: 'terminating without IP', pod: { ip: undefined, terminating: true }, want: skip('no_ip') },
    { name: 'no service label', pod: { service: undefined }, want: skip('no_service') },
    { name: 'empty service label', pod: { service: '' }, want: skip('no_service') },
    { name: 'no port', pod: { port: undefined }, want: skip('no_port') },
    { name: 'port 0 is no port', pod: { port: 0 }, want: skip('no_port') },
    { name: 'port above 65535 is no port', pod: { port: 70_000 }, want: skip('no_port') },
    { name: 'pending pod with IP, not ready', pod: { phase: 'Pending', ready: false }, want: skip('not_ready') },
    { name: 'unknown phase, ready', pod: { phase: 'Unknown' }, want: healthy },
  ];

  it.each(cases)('$name', ({ pod: overrides, includeNotReady, want }) => {
    expect(endpointForPod(pod(overrides), { includeNotReady: includeNotReady ?? false })).toEqual(want);
  });
});
