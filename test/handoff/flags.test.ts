import { describe, expect, it } from 'vitest';
import { shutdownSettings } from '../../src/cli/common.js';

describe('--shutdown-grace and --handoff-delay', () => {
  it.each([
    { argv: {}, graceMs: 10_000, handoffDelayMs: 0 },
    { argv: { shutdownGrace: '30s', handoffDelay: '5s' }, graceMs: 30_000, handoffDelayMs: 5_000 },
    { argv: { shutdownGrace: '1m', handoffDelay: '30s' }, graceMs: 60_000, handoffDelayMs: 30_000 },
    { argv: { shutdownGrace: '500ms', handoffDelay: '0' }, graceMs: 500, handoffDelayMs: 0 },
  ])('$argv', ({ argv, graceMs, handoffDelayMs }) => {
    expect(shutdownSettings(argv)).toEqual({ graceMs, handoffDelayMs });
  });

  it.each([
    { argv: { shutdownGrace: '0' }, message: /--shutdown-grace/ },
    { argv: { shutdownGrace: 'soon' }, message: /--shutdown-grace/ },
    { argv: { shutdownGrace: '2h' }, message: /--shutdown-grace: at most 1h/ },
    { argv: { shutdownGrace: '10s', handoffDelay: '6s' }, message: /--handoff-delay: at most half/ },
    { argv: { handoffDelay: '5' }, message: /--handoff-delay.*needs a unit/ },
  ])('refuses $argv', ({ argv, message }) => {
    expect(() => shutdownSettings(argv)).toThrow(message);
  });
});
