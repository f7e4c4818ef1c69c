import { framedLength, type Framed } from './framed.js';

/** A stream the pacer writes to. */
export interface PacedStream {
  readonly closed: boolean;
  /** Hands bytes to the transport; `done` once they have left. False when the stream is gone. */
  writeNow(bytes: Framed, done: () => void): boolean;
}

export interface WritePacerOptions {
  /** Bytes of large responses handed to the transport and not yet sent, across all streams. */
  maxInFlightBytes: number;
  /** Responses at least this big wait for room; smaller ones (a drain) go at once. */
  pacedFromBytes: number;
  /**
   * A write still unsent after this long stops counting against maxInFlightBytes: a client
   * that does not read (or never opens its flow-control window) must not hold the line for
   * everyone else.
   */
  slowAfterMs: number;
}

export const DEFAULT_WRITE_PACING: WritePacerOptions = { maxInFlightBytes: 16 * 1024 * 1024, pacedFromBytes: 64 * 1024, slowAfterMs: 1000 };

interface Job {
  stream: PacedStream;
  bytes: Framed;
  length: number;
}

/**
 * Paces large responses when a fleet reconnects at once. Each Envoy's first EDS response is
 * large; handed to the transport for every stream together they would hold streams × that in
 * copies, and one event-loop turn would spend seconds writing, so the listen queue overflows and
 * connecting Envoys back off. Large writes go first come, first served while no more than
 * maxInFlightBytes are unsent; small ones skip the line unless the same stream has a write
 * waiting, which keeps every stream's responses in order.
 */
export class WritePacer {
  private readonly queue: Job[] = [];
  private head = 0;
  private inFlightBytes = 0;
  private pumping = false;
  /** Streams with queued writes, and how many. */
  private readonly waiting = new Map<PacedStream, number>();
  /** Release functions of each stream's unsent large writes (grpc-js drops the callback of a cancelled call). */
  private readonly unsent = new Map<PacedStream, Set<() => void>>();

  constructor(private readonly options: WritePacerOptions = DEFAULT_WRITE_PACING) {}

  /** Writes now, or once there is room; false when the stream is already gone. */
  submit(stream: PacedStream, bytes: Framed, length = framedLength(bytes)): boolean {
    if (stream.closed) return false;
    if (length < this.options.pacedFromBytes && !this.waiting.has(stream)) {
      return stream.writeNow(bytes, noop);
    }
    this.queue.push({ stream, bytes, length });
    this.waiting.set(stream, (this.waiting.get(stream) ?? 0) + 1);
    this.pump();
    return true;
  }

  /** Forgets a stream that ended: its queued writes are dropped and its unsent bytes stop counting. */
  streamGone(stream: PacedStream): void {
    this.waiting.delete(stream);
    const releases = this.unsent.get(stream);
    if (releases) for (const release of [...releases]) release();
    this.pump();
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  get unsentBytes(): number {
    return this.inFlightBytes;
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.head < this.queue.length) {
        const job = this.queue[this.head]!;
        const cost = job.length >= this.options.pacedFromBytes ? job.length : 0;
        const gone = job.stream.closed || !this.waiting.has(job.stream);
        // One large write always goes, however large, so nothing waits forever.
        if (!gone && cost > 0 && this.inFlightBytes > 0 && this.inFlightBytes + cost > this.options.maxInFlightBytes) return;
        this.queue[this.head++] = undefined as unknown as Job;
        if (gone) continue;
        const left = this.waiting.get(job.stream)! - 1;
        if (left === 0) this.waiting.delete(job.stream);
        else this.waiting.set(job.stream, left);
        this.write(job, cost);
      }
    } finally {
      this.pumping = false;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
    }
  }

  private write(job: Job, cost: number): void {
    if (cost === 0) {
      job.stream.writeNow(job.bytes, noop);
      return;
    }
    this.inFlightBytes += cost;
    let releases = this.unsent.get(job.stream);
    if (!releases) this.unsent.set(job.stream, (releases = new Set()));
    const release = (): void => {
      clearTimeout(slow);
      if (!releases.delete(release)) return;
      if (releases.size === 0 && this.unsent.get(job.stream) === releases) this.unsent.delete(job.stream);
      this.inFlightBytes -= cost;
      this.pump();
    };
    releases.add(release);
    const slow = setTimeout(release, this.options.slowAfterMs);
    slow.unref();
    if (!job.stream.writeNow(job.bytes, release)) release();
  }
}

function noop(): void {}
