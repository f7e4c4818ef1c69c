// A real Herald (the same startDaemon as `herald serve`) fed by a hand-driven source, plus the
// check every adversarial test ends with: a well-behaved Envoy on its own connection still gets
// a pod drain, and the process still answers its health probes.
import http from 'node:http';
import { Registry } from 'prom-client';
import { expect } from 'vitest';
import { startDaemon, type Daemon } from '../../src/app/index.js';
import type { XdsLimits } from '../../src/xds/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import { ManualSource, makePod } from '../helpers/manual-source.js';
import { DeltaEnvoyLike } from './delta-like.js';
import { EnvoyLike, eventually, type EnvoyLikeOptions } from './envoy-like.js';

export interface Herald {
  daemon: Daemon;
  source: ManualSource;
  metrics: HeraldMetrics;
  address: string;
  envoys: EnvoyLike[];
  /** Pods expectServingWell has drained so far. */
  drained: number;
  envoy(options: Omit<EnvoyLikeOptions, 'address'>): EnvoyLike;
  deltaEnvoy(nodeId: string, held?: { cds: Record<string, string>; eds: Record<string, string> }, manual?: boolean): DeltaEnvoyLike;
  /** A counter or gauge value, summed over the series matching `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** HTTP status of an admin path. */
  probe(path: string): Promise<number>;
  stop(): Promise<void>;
}

export const ECHO_IPS = ['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5', '10.1.0.6'];

export async function startHerald(options: { services?: string[]; limits?: Partial<XdsLimits> } = {}): Promise<Herald> {
  const services = options.services ?? ['echo'];
  const pods = services.flatMap((service, s) => ECHO_IPS.map((ip, i) => makePod({ cluster: 'east', name: `${service}-${i}`, service, ip: s === 0 ? ip : `10.${2 + s}.0.${i + 1}` })));
  const source = new ManualSource('east', { pods });
  const metrics = new HeraldMetrics({ registry: new Registry(), defaultMetrics: false });
  const daemon = await startDaemon(
    { sources: [source], initialSyncTimeoutMs: 5_000, batchWindowMs: 1, xds: { host: '127.0.0.1', port: 0, limits: options.limits }, admin: { host: '127.0.0.1', port: 0 } },
    { logger: silentLogger(), metrics },
  );
  await daemon.ready;
  const address = `127.0.0.1:${daemon.xdsPort}`;
  const envoys: EnvoyLike[] = [];
  const deltaEnvoys: DeltaEnvoyLike[] = [];
  return {
    daemon,
    source,
    metrics,
    address,
    envoys,
    drained: 0,
    envoy(envoyOptions) {
      const envoy = new EnvoyLike({ address, ...envoyOptions });
      envoys.push(envoy);
      return envoy;
    },
    deltaEnvoy(nodeId, held, manual) {
      const envoy = new DeltaEnvoyLike(address, nodeId, held, manual);
      deltaEnvoys.push(envoy);
      return envoy;
    },
    async metric(name, labels = {}) {
      const found = await metrics.registry.getSingleMetric(name)?.get();
      if (!found) throw new Error(`no metric ${name}`);
      return found.values.filter((v) => Object.entries(labels).every(([key, value]) => (v.labels as Record<string, unknown>)[key] === value)).reduce((sum, v) => sum + v.value, 0);
    },
    probe(path) {
      return new Promise((resolve, reject) => {
        const request = http.get({ host: '127.0.0.1', port: daemon.adminPort, path, timeout: 5_000 }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on('timeout', () => request.destroy(new Error(`GET ${path} timed out`)));
        request.on('error', reject);
      });
    },
    async stop() {
      for (const envoy of envoys) envoy.close();
      for (const envoy of deltaEnvoys) envoy.close();
      await daemon.stop(1_000);
    },
  };
}

/** Waits until this Envoy runs `service`'s cluster and assignment. */
export async function synced(envoy: EnvoyLike, service = 'echo', timeoutMs = 10_000): Promise<void> {
  await eventually(() => envoy.clusters.has(service) && (envoy.assignments.get(service)?.endpoints.length ?? 0) > 0, `${service} served to ${envoy.nodeId}`, timeoutMs);
}

/**
 * The health check of every adversarial test: fresh, well-behaved Envoys on their own
 * connections — one SotW, one Delta — sync, a pod starts terminating, both run DRAINING for it,
 * then the pod goes and so does its endpoint; the admin probes answer. Each call uses the next
 * pod, so calls can repeat.
 */
export async function expectServingWell(herald: Herald): Promise<void> {
  const index = herald.drained++;
  if (index >= ECHO_IPS.length) throw new Error('harness: out of pods to drain');
  const ip = ECHO_IPS[index]!;
  const envoy = herald.envoy({ nodeId: `well-behaved-${index}` });
  const delta = herald.deltaEnvoy(`well-behaved-delta-${index}`);
  const both = (health: string | undefined) => envoy.healthOf('echo', ip) === health && delta.healthOf('echo', ip) === health;
  await synced(envoy);
  await eventually(() => both('HEALTHY'), `${ip} HEALTHY at the well-behaved Envoys`);
  herald.source.update(`default/echo-${index}`, { terminating: true });
  await eventually(() => both('DRAINING'), `DRAINING for ${ip} at the well-behaved Envoys`);
  herald.source.remove(`default/echo-${index}`);
  await eventually(() => both(undefined) && delta.assignments.has('echo'), `${ip} gone at the well-behaved Envoys`);
  expect(envoy.responses.filter((r) => r.answer === 'nack')).toEqual([]);
  expect(delta.status).toBeUndefined();
  expect(await herald.probe('/healthz')).toBe(200);
  expect(await herald.probe('/readyz')).toBe(200);
  envoy.close();
  delta.close();
}
