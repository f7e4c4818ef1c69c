import { hostname } from 'node:os';
import { ConfigError } from './errors.js';
import { validateBoolean, validateDuration } from './values.js';

/** What `herald serve` does with finished drains: how long one may take, Events, and the name it signs them with. */
export interface DrainConfig {
  /** A drain not ACKed by every client within this (or the pod's grace, if shorter) ends incomplete. */
  drainTimeoutMs: number;
  /** The replica's name in drain receipts and Events: --replica-name, else POD_NAME, else the host name. */
  replicaName: string;
  /** --drain-events: undefined when off. */
  events: { perSecond: number; burst: number; capacity: number } | undefined;
}

export const DRAIN_DEFAULTS = { drainTimeout: '60s', eventsPerSecond: 5, eventBurst: 25, eventQueue: 5_000 } as const;

export function positive(flag: string, value: unknown, integer: boolean, max: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)) || n > max) {
    throw new ConfigError(`${flag}: '${String(value)}' is not a${integer ? ' whole' : ''} number between 0 and ${max}`);
  }
  return n;
}

/** Reads the drain flags (see cli/serve); throws ConfigError on a bad value. */
export function buildDrainConfig(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): DrainConfig {
  const drainTimeoutMs = validateDuration('--drain-timeout', raw['drainTimeout'] ?? DRAIN_DEFAULTS.drainTimeout, { allowZero: false });
  if (drainTimeoutMs > 3_600_000) throw new ConfigError('--drain-timeout: at most 1h');
  const named = raw['replicaName'];
  const replicaName = typeof named === 'string' && named !== '' ? named : env['POD_NAME'] || hostname();
  if (replicaName.length > 128) throw new ConfigError('--replica-name: at most 128 characters');
  const on = validateBoolean('--drain-events', raw['drainEvents'] ?? false);
  return {
    drainTimeoutMs,
    replicaName,
    events: on
      ? {
          perSecond: positive('--drain-events-qps', raw['drainEventsQps'] ?? DRAIN_DEFAULTS.eventsPerSecond, false, 1_000),
          burst: positive('--drain-events-burst', raw['drainEventsBurst'] ?? DRAIN_DEFAULTS.eventBurst, true, 10_000),
          capacity: positive('--drain-events-queue', raw['drainEventsQueue'] ?? DRAIN_DEFAULTS.eventQueue, true, 1_000_000),
        }
      : undefined,
  };
}
