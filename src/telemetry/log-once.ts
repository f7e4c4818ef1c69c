/**
 * Remembers which clients were already logged about, so an abusive client that reconnects in a
 * loop costs one log line per window, not one per attempt. Bounded: past `maxKeys` the oldest
 * key is forgotten (and may be logged again).
 */
export class LogOnce {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs = 600_000,
    private readonly maxKeys = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** True the first time `key` is asked about in a window. */
  shouldLog(key: string): boolean {
    const at = this.now();
    const last = this.seen.get(key);
    if (last !== undefined && at - last < this.windowMs) return false;
    this.seen.delete(key);
    this.seen.set(key, at);
    if (this.seen.size > this.maxKeys) this.seen.delete(this.seen.keys().next().value as string);
    return true;
  }
}
