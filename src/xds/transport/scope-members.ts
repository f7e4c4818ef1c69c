// Which open streams hold each shared scope. When a declared service starts or stops routing to
// another service, the scopes declaring it change, and only their streams are looked at again:
// a canary added to one service touches its dependents, not the mesh.
import type { Scope } from '../bookkeeping/index.js';
import type { ObservedStream, StreamObserver } from './observers.js';

export class ScopeMembers implements StreamObserver {
  private readonly byScope = new Map<Scope, Set<string>>();
  private readonly ofStream = new Map<string, Scope>();

  /** `scopeOf`: the scope an open stream holds, if any. */
  constructor(private readonly scopeOf: (streamId: string) => Scope | undefined) {}

  /** A stream's scope comes with its first request, the one that identifies it. */
  identified(stream: ObservedStream): void {
    const scope = this.scopeOf(stream.id);
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

  /** Ids of the open streams holding the scope. */
  streams(scope: Scope): ReadonlySet<string> {
    return this.byScope.get(scope) ?? EMPTY;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
