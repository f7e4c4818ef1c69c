// Dependency scoping as operators see it: how many streams are scoped and how many distinct
// declarations they share, and a client that declared a service Herald does not serve. Such a
// name is served as soon as the service appears; until then it is most often a typo in the
// client's bootstrap, so it is said once per client rather than per response.
import { LogOnce, type HeraldMetrics, type Logger } from '../../telemetry/index.js';
import type { ResourceView } from '../../cache/index.js';
import type { ScopeTable } from '../bookkeeping/index.js';
import type { StreamObserver } from './observers.js';

/** Declared names quoted in one log line; the rest are counted. */
const NAMES_LOGGED = 20;

export function scopeObserver(
  view: ResourceView,
  scopes: ScopeTable,
  metrics: Pick<HeraldMetrics, 'xdsScopedStreams' | 'xdsDependencyScopes' | 'xdsUnknownDependencies'>,
  logger: Logger,
): StreamObserver {
  const scoped = new Set<string>();
  const checked = new Set<string>();
  // A client chooses its node id: reconnecting under fresh ones must not buy a log line each.
  const byNode = new LogOnce();
  const byAddress = new LogOnce();
  return {
    identified: (stream) => {
      if (stream.declaredDependencies === undefined) return;
      scoped.add(stream.id);
      metrics.xdsScopedStreams.inc();
      metrics.xdsDependencyScopes.set(scopes.size);
    },
    sent: (stream, kind) => {
      if (kind !== 'cluster' || !scoped.has(stream.id) || checked.has(stream.id)) return;
      checked.add(stream.id);
      const unknown = stream.declaredDependencies!.filter((name) => view.get('cluster', name) === undefined);
      if (unknown.length === 0) return;
      metrics.xdsUnknownDependencies.inc(unknown.length);
      const node = stream.node?.id ?? '';
      if (byNode.shouldLog(node) && byAddress.shouldLog(stream.peer.slice(0, stream.peer.lastIndexOf(':')))) {
        logger.warn(
          { node: node.slice(0, 200), peer: stream.peer, unknown: unknown.slice(0, NAMES_LOGGED).map((name) => name.slice(0, 200)), unknownCount: unknown.length },
          'xDS client declared dependencies Herald serves no cluster for; they are served when they appear',
        );
      }
    },
    closed: (stream) => {
      checked.delete(stream.id);
      if (!scoped.delete(stream.id)) return;
      metrics.xdsScopedStreams.dec();
      // The stream let go of its scope before observers hear of its closing.
      metrics.xdsDependencyScopes.set(scopes.size);
    },
  };
}
