/** A place taken at the gate: running, or waiting in its queue. */
export interface GateTicket {
  /** True when the work may start; false when the ticket left the queue before its turn. */
  readonly turn: Promise<boolean>;
  /** Gives the place back, whether running or still waiting; later calls do nothing. */
  leave(): void;
}

interface Place {
  state: 'queued' | 'running' | 'left';
  settle(started: boolean): void;
}

/**
 * Lets at most `maxRunning` pieces of work run at once, with at most `maxQueued` more waiting
 * in arrival order; past that, enter() refuses. Work that waits costs nothing but its place.
 */
export class WorkGate {
  private active = 0;
  private readonly queue: Place[] = [];

  constructor(
    private readonly maxRunning: number,
    private readonly maxQueued: number,
  ) {}

  get running(): number {
    return this.active;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** A ticket, or undefined when every run and queue place is taken. */
  enter(): GateTicket | undefined {
    const runs = this.active < this.maxRunning;
    if (!runs && this.queue.length >= this.maxQueued) return undefined;
    let settle!: (started: boolean) => void;
    const turn = new Promise<boolean>((resolve) => (settle = resolve));
    const place: Place = { state: 'queued', settle };
    if (runs) this.start(place);
    else this.queue.push(place);
    return { turn, leave: () => this.leave(place) };
  }

  private start(place: Place): void {
    this.active += 1;
    place.state = 'running';
    place.settle(true);
  }

  private leave(place: Place): void {
    if (place.state === 'queued') {
      this.queue.splice(this.queue.indexOf(place), 1);
      place.settle(false);
    } else if (place.state === 'running') {
      this.active -= 1;
      while (this.active < this.maxRunning && this.queue.length > 0) this.start(this.queue.shift()!);
    }
    place.state = 'left';
  }
}
