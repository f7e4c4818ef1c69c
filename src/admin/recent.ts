/**
 * The newest `capacity` items, oldest dropped first. The admin pages show recent history
 * (finished drains) without letting a long-running replica's memory grow with it.
 */
export class RecentList<T> {
  private readonly items: T[] = [];

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }

  /** Newest first. */
  newestFirst(): T[] {
    return [...this.items].reverse();
  }

  get size(): number {
    return this.items.length;
  }
}
