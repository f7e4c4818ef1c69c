// A load generator process: many simulated Envoys on one event loop. Runs in its own process so
// its CPU shows apart from the server's. Talks to the orchestrator over the fork IPC channel.
import { AdsStream, now, type StreamContext, type StreamPlace, type StreamScope } from './ads-stream.js';
import { encodeDependencies, encodeKubeCluster } from './wire.js';

/**
 * Where the streams of a connect say they run: stream g of the run (g = firstIndex + its index in
 * the connect) declares kube cluster kubeClusters[g mod length] and zone zones[g mod length]; an
 * empty list declares none.
 */
export interface Places {
  kubeClusters: string[];
  zones: string[];
  firstIndex: number;
}

/** Stream g's place under `places` (shared by both load generators' semantics: peer/loadgen/place.go). */
export function placeOf(places: Places | undefined, g: number): { kubeCluster?: string; zone?: string } {
  if (!places) return {};
  const { kubeClusters, zones } = places;
  return {
    ...(kubeClusters.length > 0 ? { kubeCluster: kubeClusters[g % kubeClusters.length]! } : {}),
    ...(zones.length > 0 ? { zone: zones[g % zones.length]! } : {}),
  };
}

export type WorkerCommand =
  | { op: 'connect'; port: number; count: number; prefix: string; expectedClusters: number; sets?: string[][]; setOf?: number[]; places?: Places }
  | { op: 'watch'; service: string; ip: string }
  | { op: 'collect'; ips: string[] }
  | { op: 'status' }
  | { op: 'close' };

export interface DrainTimes {
  /** Per stream that saw it: when the DRAINING assignment arrived, and when its ACK was written. */
  received: number[];
  acked: number[];
  /** Streams that do not depend on the address's service and were sent the drain anyway. */
  leaked?: number;
  /** Live streams that depend on the service, when collected. */
  expected?: number;
  /** Streams that declared a zone and were sent the drain with every priority-0 locality in it, by zone. */
  ownZoneFirst?: Record<string, number>;
  /** Streams that declared a zone and were sent the drain with priority 0 empty or holding another zone (an error). */
  wrongZone?: number;
}

export type WorkerEvent =
  | { event: 'full'; at: number }
  | { event: 'done'; ip: string }
  | { event: 'collected'; drains: Record<string, DrainTimes> }
  | {
      event: 'status';
      streams: number;
      alive: number;
      full: number;
      bytes: number;
      responses: number;
      /** Resources sent to scoped streams outside their declared sets. */
      outOfScope?: number;
      firstGone: string | undefined;
      lastFullAt: number | undefined;
    };

const CONNECT_BATCH = 200;

const streams: AdsStream[] = [];
const drains = new Map<string, DrainTimes>();
/** The service of each watched address. */
const drainService = new Map<string, string>();
/** Live streams that take every service, and live scoped streams per service they declare. */
let unscoped = 0;
const dependents = new Map<string, number>();
let outOfScope = 0;
let alive = 0;
let full = 0;
let fullReported = false;
let lastFullAt: number | undefined;
let firstGone: string | undefined;

function send(message: WorkerEvent): void {
  process.send?.(message);
}

function checkFull(): void {
  if (!fullReported && streams.length > 0 && full >= alive) {
    fullReported = true;
    send({ event: 'full', at: lastFullAt ?? now() });
  }
}

function countStream(scope: StreamScope | undefined, delta: number): void {
  if (!scope) {
    unscoped += delta;
    return;
  }
  for (const name of scope.names) dependents.set(name, (dependents.get(name) ?? 0) + delta);
}

/** Live streams that depend on the service: a drain of it is done once they all have it. */
const expectedFor = (service: string | undefined): number => unscoped + (service === undefined ? 0 : (dependents.get(service) ?? 0));

function checkDone(ip: string): void {
  const times = drains.get(ip);
  if (times && times.received.length >= expectedFor(drainService.get(ip))) send({ event: 'done', ip });
}

const ctx: StreamContext = {
  watched: new Map(),
  expectedClusters: 0,
  onFull(stream) {
    full += 1;
    lastFullAt = stream.fullAt;
    checkFull();
  },
  onDraining(_stream, ip, receivedAt, ackedAt, leaked, zone) {
    const times = drains.get(ip);
    if (!times) return;
    if (zone?.ownZoneFirst === true) (times.ownZoneFirst ??= {})[zone.zone] = (times.ownZoneFirst[zone.zone] ?? 0) + 1;
    else if (zone) times.wrongZone = (times.wrongZone ?? 0) + 1;
    if (leaked) {
      times.leaked = (times.leaked ?? 0) + 1;
      return;
    }
    times.received.push(receivedAt);
    times.acked.push(ackedAt);
    checkDone(ip);
  },
  onOutOfScope() {
    outOfScope += 1;
  },
  onGone(stream, reason) {
    alive -= 1;
    countStream(stream.scope, -1);
    if (stream.fullAt !== undefined) full -= 1;
    firstGone ??= reason;
    checkFull();
    for (const ip of drains.keys()) checkDone(ip);
  },
};

function connect(command: Extract<WorkerCommand, { op: 'connect' }>): void {
  ctx.expectedClusters = command.expectedClusters;
  const scopes: StreamScope[] = (command.sets ?? []).map((set) => {
    const names = [...set].sort();
    return { names, members: new Set(names), metadata: encodeDependencies(names) };
  });
  let next = 0;
  // Batches keep the event loop answering while thousands of connections open "at once".
  const batch = (): void => {
    const end = Math.min(command.count, next + CONNECT_BATCH);
    for (; next < end; next++) {
      const scope = scopes[command.setOf?.[next] ?? -1];
      const declared = placeOf(command.places, (command.places?.firstIndex ?? 0) + next);
      const place: StreamPlace = {
        ...(declared.kubeCluster !== undefined ? { kubeCluster: encodeKubeCluster(declared.kubeCluster) } : {}),
        ...(declared.zone !== undefined ? { zone: declared.zone } : {}),
      };
      const stream = new AdsStream(streams.length, `${command.prefix}-${next}`, ctx, scope, place);
      streams.push(stream);
      alive += 1;
      countStream(scope, 1);
      stream.connect(command.port);
    }
    if (next < command.count) setImmediate(batch);
  };
  batch();
}

process.on('message', (command: WorkerCommand) => {
  switch (command.op) {
    case 'connect':
      connect(command);
      return;
    case 'watch': {
      let ips = ctx.watched.get(command.service);
      if (!ips) ctx.watched.set(command.service, (ips = new Set()));
      ips.add(command.ip);
      drains.set(command.ip, { received: [], acked: [], leaked: 0 });
      drainService.set(command.ip, command.service);
      // A worker none of whose streams depends on the service is done at once.
      checkDone(command.ip);
      return;
    }
    case 'collect': {
      const out: Record<string, DrainTimes> = {};
      for (const ip of command.ips) {
        const times = drains.get(ip);
        if (times) out[ip] = { ...times, expected: expectedFor(drainService.get(ip)) };
        drains.delete(ip);
        drainService.delete(ip);
        for (const ips of ctx.watched.values()) ips.delete(ip);
      }
      send({ event: 'collected', drains: out });
      return;
    }
    case 'status': {
      let bytes = 0;
      let responses = 0;
      for (const s of streams) {
        bytes += s.bytes;
        responses += s.responses;
      }
      send({ event: 'status', streams: streams.length, alive, full, bytes, responses, outOfScope, firstGone, lastFullAt });
      return;
    }
    case 'close':
      for (const s of streams) s.close();
      setTimeout(() => process.exit(0), 200).unref();
      process.disconnect?.();
      return;
  }
});

process.on('disconnect', () => {
  for (const s of streams) s.close();
  process.exit(0);
});
