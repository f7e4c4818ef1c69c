import type * as net from 'node:net';

/** Connections handed to grpc-js per event-loop turn while a backlog waits. */
const DEFAULT_BATCH = 64;

/**
 * Takes connections off the kernel's accept queue at once and hands them to grpc-js a batch per
 * event-loop turn. When a fleet reconnects together, setting up each HTTP/2 session (and
 * answering its first requests) inside the accept callback let the accept queue (capped by
 * net.core.somaxconn, often 4096) overflow: the kernel then drops SYNs and Envoys wait out
 * exponential retransmission timers (1, 3, 7, 15 s…), and some connections are reset. An
 * accepted socket is paused, so its bytes wait in the kernel until its turn.
 */
export class ConnectionAdmission {
  private readonly waiting: net.Socket[] = [];
  private head = 0;
  private scheduled = false;
  private closed = false;

  private readonly inject: (socket: net.Socket) => void;

  constructor(
    inject: (socket: net.Socket) => void,
    private readonly batch = DEFAULT_BATCH,
  ) {
    // Accepted paused; reading starts as grpc-js takes the socket, exactly as an unpaused accept.
    this.inject = (socket) => {
      socket.resume();
      inject(socket);
    };
  }

  admit(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.queued === 0 && !this.scheduled) {
      // Nothing waiting: no reason to delay this one.
      this.inject(socket);
      this.scheduleIfWaiting();
      return;
    }
    this.waiting.push(socket);
    this.scheduleIfWaiting();
  }

  get queued(): number {
    return this.waiting.length - this.head;
  }

  /** Refuses what waits and whatever comes next. */
  close(): void {
    this.closed = true;
    for (let i = this.head; i < this.waiting.length; i++) this.waiting[i]!.destroy();
    this.waiting.length = 0;
    this.head = 0;
  }

  private scheduleIfWaiting(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // One turn after any injection, so connections accepted in this turn queue behind it.
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    if (this.closed) return;
    const end = Math.min(this.waiting.length, this.head + this.batch);
    for (; this.head < end; this.head++) {
      const socket = this.waiting[this.head]!;
      this.waiting[this.head] = undefined as unknown as net.Socket;
      if (!socket.destroyed) this.inject(socket);
    }
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
      return;
    }
    this.scheduleIfWaiting();
  }
}
