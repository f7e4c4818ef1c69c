// The one narrow interface through which the rest of Herald learns what the xDS server does
// with its streams: drain tracking, CSDS and the stream metrics all subscribe here, so the
// server holds no reference to any of them.
import { envoySupport, MIN_ENVOY_VERSION, type EnvoySupport, type ResourceKind } from '../../model/index.js';
import { LogOnce, type HeraldMetrics, type Logger } from '../../telemetry/index.js';
import type { AckedResource, NackInfo } from '../protocol/index.js';
import type { ResourceStatus } from '../bookkeeping/index.js';
import type { NodeInfo } from '../wire/index.js';
import type { XdsApi, XdsProtocol } from './api-specs.js';

/** What an observer may read of an open stream; valid until closed() is called for it. */
export interface ObservedStream {
  readonly id: string;
  readonly api: XdsApi;
  readonly protocol: XdsProtocol;
  readonly peer: string;
  /** The node from the stream's first request that carried one. */
  readonly node: NodeInfo | undefined;
  /** The services the client declared it calls (from its first request), sorted; undefined when it declared none. */
  readonly declaredDependencies: readonly string[] | undefined;
  /** The client's first Node as it encoded it (every field it set). */
  nodeBytes(): Uint8Array | undefined;
  /** Per resource: what the stream was sent, ACKed and NACKed (for CSDS). */
  resourceStatuses(): Iterable<ResourceStatus>;
}

/** A resource as it left in a response: its name and the cache's change number. */
export interface SentResource {
  readonly name: string;
  readonly seq: number;
}

/**
 * Events of every stream, called synchronously in the order they happen. "sent" means the
 * response was accepted for the stream, in order: handed to its writer, or (a large one during
 * a connect storm) queued in the write pacer behind other streams' large writes; not that it
 * arrived;
 * "answered" is the client's ACK or NACK of that response. A throwing observer is logged and
 * skipped: it never ends the stream nor keeps other observers from hearing the event.
 */
export interface StreamObserver {
  opened?(stream: ObservedStream): void;
  /** The stream's first request that carried a Node arrived and was taken by the protocol (once per stream, before any answer to it). */
  identified?(stream: ObservedStream, node: NodeInfo): void;
  sent?(stream: ObservedStream, kind: ResourceKind, resources: readonly SentResource[]): void;
  /** `acked`: the resources of the response the client ACKed; `nack`: set when it rejected it. */
  answered?(stream: ObservedStream, kind: ResourceKind, acked: readonly AckedResource[] | undefined, nack: NackInfo | undefined): void;
  closed?(stream: ObservedStream): void;
}

type EventName = keyof StreamObserver;

/** Fans each event out to the observers that listen for it; the xDS server owns one. */
export class StreamObservers {
  private readonly byEvent: { [E in EventName]: StreamObserver[] } = { opened: [], identified: [], sent: [], answered: [], closed: [] };

  constructor(private readonly logger: Logger) {}

  /** Adds an observer; the returned function removes it. */
  add(observer: StreamObserver): () => void {
    for (const event of Object.keys(this.byEvent) as EventName[]) if (observer[event]) this.byEvent[event].push(observer);
    return () => {
      for (const list of Object.values(this.byEvent)) {
        const at = list.indexOf(observer);
        if (at >= 0) list.splice(at, 1);
      }
    };
  }

  opened(stream: ObservedStream): void {
    for (const observer of this.byEvent.opened) this.guard('opened', () => observer.opened!(stream));
  }

  identified(stream: ObservedStream, node: NodeInfo): void {
    for (const observer of this.byEvent.identified) this.guard('identified', () => observer.identified!(stream, node));
  }

  // sent and answered run once per stream in a drain's fan-out and its ACKs: no closure per call.
  sent(stream: ObservedStream, kind: ResourceKind, resources: readonly SentResource[]): void {
    for (const observer of this.byEvent.sent) {
      try {
        observer.sent!(stream, kind, resources);
      } catch (err) {
        this.failed('sent', err);
      }
    }
  }

  answered(stream: ObservedStream, kind: ResourceKind, acked: readonly AckedResource[] | undefined, nack: NackInfo | undefined): void {
    for (const observer of this.byEvent.answered) {
      try {
        observer.answered!(stream, kind, acked, nack);
      } catch (err) {
        this.failed('answered', err);
      }
    }
  }

  closed(stream: ObservedStream): void {
    for (const observer of this.byEvent.closed) this.guard('closed', () => observer.closed!(stream));
  }

  /** Observers run inside the stream's own calls: a bug there must not end streams. */
  private guard(event: EventName, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.failed(event, err);
    }
  }

  private failed(event: EventName, err: unknown): void {
    this.logger.error({ err, what: `observer.${event}` }, 'xDS internal error');
  }
}

/** The metrics kept per stream event: open streams by API, NACKs by type. */
export function streamMetricsObserver(metrics: Pick<HeraldMetrics, 'xdsStreams' | 'xdsNacks'>): StreamObserver {
  return {
    opened: (stream) => metrics.xdsStreams.inc({ api: stream.api }),
    answered: (_stream, kind, _acked, nack) => {
      if (nack) metrics.xdsNacks.inc({ type: kind });
    },
    closed: (stream) => metrics.xdsStreams.dec({ api: stream.api }),
  };
}

/** An Envoy's version does not change while it runs: once a day per node id is reminder enough. */
const OLD_ENVOY_LOG_WINDOW_MS = 24 * 3600_000;

/**
 * Counts open Envoy streams by whether the Envoy's version keeps DRAINING hosts out of its
 * panic and spillover arithmetic, and warns about each old one once a day per node id (and
 * once per 10 minutes per peer address). Work happens once per stream (its first Node), never
 * per request.
 */
export function envoyVersionObserver(metrics: Pick<HeraldMetrics, 'xdsEnvoyStreams'>, logger: Logger): StreamObserver {
  const counted = new Map<string, EnvoySupport>();
  const byNode = new LogOnce(OLD_ENVOY_LOG_WINDOW_MS);
  // A client chooses its node id: a fresh one per stream must not buy a log line each.
  const byAddress = new LogOnce();
  return {
    identified: (stream, node) => {
      const support = envoySupport(node);
      if (support === undefined) return;
      counted.set(stream.id, support);
      metrics.xdsEnvoyStreams.inc({ support });
      if (support === 'old' && byNode.shouldLog(node.id) && byAddress.shouldLog(stream.peer.slice(0, stream.peer.lastIndexOf(':')))) {
        logger.warn(
          { node: node.id.slice(0, 200), envoyVersion: node.userAgentVersion, minimum: MIN_ENVOY_VERSION, peer: stream.peer },
          `Envoy older than ${MIN_ENVOY_VERSION}: it counts DRAINING endpoints as unhealthy, so a large scale-down can spill or panic-route traffic to draining pods`,
        );
      }
    },
    closed: (stream) => {
      const support = counted.get(stream.id);
      if (support === undefined) return;
      counted.delete(stream.id);
      metrics.xdsEnvoyStreams.dec({ support });
    },
  };
}
