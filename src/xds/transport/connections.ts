// Every accepted xDS connection, counted in all and per peer address, with the streams open on
// it: a connection over a count is refused at accept, and one that never opens a stream (no
// HTTP/2 preface, a stalled TLS handshake) or sits without streams is closed, so idle sockets
// cannot use up file descriptors that real clients and the probes need.
import type * as net from 'node:net';
import type { XdsLimits } from './limits.js';

export type RefusalReason = 'max_connections' | 'max_connections_per_peer';
export type ClosingReason = 'handshake_timeout' | 'idle_timeout';

export interface ConnectionEvents {
  refused(reason: RefusalReason, peerAddress: string): void;
  closed(reason: ClosingReason, peerAddress: string): void;
  /** Open connections after a change. */
  count(open: number): void;
}

interface Connection {
  readonly socket: net.Socket;
  readonly address: string;
  streams: number;
  timer: NodeJS.Timeout | undefined;
}

type ConnectionLimits = Pick<XdsLimits, 'maxConnections' | 'maxConnectionsPerPeer' | 'handshakeTimeoutMs' | 'idleConnectionTimeoutMs'>;

/** The address part of a grpc-js peer string (address:port). */
const addressOf = (peer: string): string => peer.slice(0, peer.lastIndexOf(':'));

/** The key grpc-js's call.getPeer() gives for the same connection. */
const peerKey = (address: string | undefined, port: number | undefined): string => `${address}:${port}`;

export class ConnectionTable {
  private readonly byPeer = new Map<string, Connection>();
  private readonly perAddress = new Map<string, number>();
  /** Names subscribed by the streams of each peer address. */
  private readonly namesByAddress = new Map<string, number>();

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly events: ConnectionEvents,
  ) {}

  get open(): number {
    return this.byPeer.size;
  }

  /** Counts a freshly accepted socket; false (and the socket destroyed) when it is over a limit. */
  accept(socket: net.Socket): boolean {
    const address = socket.remoteAddress ?? 'unknown';
    if (this.byPeer.size >= this.limits.maxConnections) return this.refuse(socket, 'max_connections', address);
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= this.limits.maxConnectionsPerPeer) return this.refuse(socket, 'max_connections_per_peer', address);
    const key = peerKey(socket.remoteAddress, socket.remotePort);
    const connection: Connection = { socket, address, streams: 0, timer: undefined };
    this.byPeer.set(key, connection);
    this.perAddress.set(address, fromAddress + 1);
    this.arm(connection, 'handshake_timeout', this.limits.handshakeTimeoutMs);
    socket.once('close', () => this.forget(key, connection));
    this.events.count(this.byPeer.size);
    return true;
  }

  /** A gRPC call started on the connection `peer` (call.getPeer()) names. */
  streamOpened(peer: string): void {
    const connection = this.byPeer.get(peer);
    if (!connection) return;
    connection.streams += 1;
    this.disarm(connection);
  }

  streamClosed(peer: string): void {
    const connection = this.byPeer.get(peer);
    if (!connection || connection.streams === 0) return;
    connection.streams -= 1;
    if (connection.streams === 0) this.arm(connection, 'idle_timeout', this.limits.idleConnectionTimeoutMs);
  }

  /**
   * A stream of the connection `peer` names now subscribes to `delta` more (or fewer) names;
   * returns the total for the connection's address.
   */
  namesChanged(peer: string, delta: number): number {
    const address = this.byPeer.get(peer)?.address ?? addressOf(peer);
    const total = (this.namesByAddress.get(address) ?? 0) + delta;
    if (total > 0) this.namesByAddress.set(address, total);
    else this.namesByAddress.delete(address);
    return total;
  }

  /** Stops every timer; the sockets themselves are the server's to close. */
  close(): void {
    for (const connection of this.byPeer.values()) this.disarm(connection);
  }

  private refuse(socket: net.Socket, reason: RefusalReason, address: string): false {
    socket.destroy();
    this.events.refused(reason, address);
    return false;
  }

  private arm(connection: Connection, reason: ClosingReason, ms: number): void {
    this.disarm(connection);
    connection.timer = setTimeout(() => {
      connection.timer = undefined;
      if (connection.streams > 0 || connection.socket.destroyed) return;
      this.events.closed(reason, connection.address);
      connection.socket.destroy();
    }, ms);
    connection.timer.unref();
  }

  private disarm(connection: Connection): void {
    if (connection.timer) clearTimeout(connection.timer);
    connection.timer = undefined;
  }

  private forget(key: string, connection: Connection): void {
    this.disarm(connection);
    if (this.byPeer.get(key) !== connection) return;
    this.byPeer.delete(key);
    const left = (this.perAddress.get(connection.address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(connection.address, left);
    else this.perAddress.delete(connection.address);
    this.events.count(this.byPeer.size);
  }
}
