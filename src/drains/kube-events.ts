import { randomBytes } from 'node:crypto';
import type { EventsV1Api, EventsV1Event } from '@kubernetes/client-node';
import type { AggregatedEvent } from './event-queue.js';
import type { DrainEventContent } from './event-text.js';

/** Who writes the Events (events.k8s.io reportingController). */
export const REPORTING_CONTROLLER = 'herald.io/drain-receipts';

/** RFC 3339 with microseconds, as the apiserver reads a MicroTime (a JS ISO string has only milliseconds). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * An events.k8s.io/v1 Event about the pod. Repeats merged by the queue become one Event with a
 * series (count and last time seen); the API requires a series to count at least 2.
 */
export function drainEventBody(event: AggregatedEvent<DrainEventContent>, replica: string, suffix: string): EventsV1Event {
  const c = event.latest;
  // Names are at most 253 characters; the pod's name first, so `kubectl get events` sorts by pod.
  const name = `${c.pod.slice(0, 253 - suffix.length - 1)}.${suffix}`;
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name, namespace: c.namespace, labels: { 'app.kubernetes.io/managed-by': 'herald' } },
    // A MicroTime string: the client serialises it as given.
    eventTime: microTime(event.firstAtMs) as unknown as Date,
    ...(event.count >= 2 ? { series: { count: event.count, lastObservedTime: microTime(event.lastAtMs) as unknown as Date } } : {}),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: replica.slice(0, 128),
    action: 'Drain',
    reason: c.reason,
    type: c.type,
    note: c.note,
    regarding: { apiVersion: 'v1', kind: 'Pod', namespace: c.namespace, name: c.pod, ...(c.uid ? { uid: c.uid } : {}) },
  };
}

/**
 * Writes drain Events to the pod's own cluster, through the events.k8s.io API of that cluster's
 * client. Resolves when written; rejects with the API's error otherwise.
 */
export function kubeEventWriter(options: { apis: ReadonlyMap<string, Pick<EventsV1Api, 'createNamespacedEvent'>>; replica: string }) {
  return async (event: AggregatedEvent<DrainEventContent>): Promise<void> => {
    const api = options.apis.get(event.latest.cluster);
    if (!api) throw new Error(`no Kubernetes client for cluster ${event.latest.cluster}`);
    const body = drainEventBody(event, options.replica, `herald-${randomBytes(5).toString('hex')}`);
    await api.createNamespacedEvent({ namespace: event.latest.namespace, body });
  };
}
