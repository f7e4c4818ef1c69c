// Which open streams hold each shared scope. When a declared service starts or stops routing to
// another service, the scopes declaring it change, and only their streams are looked at again:
// a canary added to one service touches its dependents, not the mesh.
import type { Logger } from '../../telemetry/index.js';
import type { Scope, ScopeChange } from '../bookkeeping/index.js';
import type { ObservedStream, StreamObserver } from './observers.js';

/** What the members need of an open stream. */
export interface RescopedStream {
  readonly scope: Scope | undefined;
  /** Told what its scope gained and lost; true when it has something to send. */
  rescoped(added: readonly string[], removed: readonly string[]): boolean;
}

/** Names quoted in the log line of a routes change; the rest are counted. */
const NAMES_LOGGED = 20;

export class ScopeMembers<S extends RescopedStream> implements StreamObserver {
  private readonly byScope = new Map<Scope, Set<string>>();
  private readonly ofStream = new Map<string, Scope>();

  /** `streamOf`: the open stream with this id, if any. */
  constructor(
    private readonly streamOf: (streamId: string) => S | undefined,
    private readonly logger: Logger,
  ) {}

  /** A stream's scope comes with its first request, the one that identifies it. */
  identified(stream: ObservedStream): void {
    const scope = this.streamOf(stream.id)?.scope;
    if (scope === undefined) return;
    this.ofStream.set(stream.id, scope);
    let members = this.byScope.get(scope);
    if (!members) this.byScope.set(scope, (members = new Set()));
    members.add(stream.id);
  }

  closed(stream: ObservedStream): void {
    const scope = this.ofStream.get(stream.id);
    if (scope === undefined) return;
    this.ofStream.delete(stream.id);
    const members = this.byScope.get(scope);
    members?.delete(stream.id);
    if (members?.size === 0) this.byScope.delete(scope);
  }

  /** Tells every stream of each changed scope what it gained and lost; returns those with something to send. */
  rescope(changes: readonly ScopeChange[]): Set<S> {
    const due = new Set<S>();
    const added = new Set<string>();
    const removed = new Set<string>();
    let streams = 0;
    for (const change of changes) {
      for (const name of change.added) added.add(name);
      for (const name of change.removed) removed.add(name);
      for (const id of this.byScope.get(change.scope) ?? []) {
        const stream = this.streamOf(id);
        if (!stream) continue;
        streams += 1;
        try {
          if (stream.rescoped(change.added, change.removed)) due.add(stream);
        } catch (err) {
          this.logger.error({ err, what: 'rescope', stream: id }, 'xDS internal error');
        }
      }
    }
    // One line per routes change, however many scopes and streams it reaches.
    if (changes.length > 0) {
      this.logger.info(
        { scopes: changes.length, streams, added: [...added].slice(0, NAMES_LOGGED), removed: [...removed].slice(0, NAMES_LOGGED) },
        'dependency scopes follow routes: clients of services that route elsewhere gain or lose those backends',
      );
    }
    return due;
  }
}
