// The bounds on what one unauthenticated xDS client can make Herald hold or do. Crossing one
// costs that client its stream (or its connection, before HTTP/2 can carry a status), with a
// status naming the limit, a metric and one log line per client; nobody else notices.

export interface XdsLimits {
  /** Resource names one stream may subscribe to, summed over its types (Delta: cumulative). */
  maxNamesPerStream: number;
  /**
   * Resource names the streams of one peer address may subscribe to together: many connections
   * from one address cannot multiply the per-stream bound.
   */
  maxNamesPerPeer: number;
  /** Size of the Node a client sends; a current Envoy's, with every extension listed, is ~34 KB. */
  maxNodeBytes: number;
  /** Size of one request message; an Envoy's EDS ACK naming 600 clusters is ~6 KB. */
  maxRequestBytes: number;
  /** HTTP/2 streams open at once on one connection (advertised in SETTINGS). */
  maxStreamsPerConnection: number;
  /** Open xDS connections in all. */
  maxConnections: number;
  /** Open xDS connections from one peer address. */
  maxConnectionsPerPeer: number;
  /** nghttp2's memory per connection (headers, frames in flight), in MiB. */
  maxSessionMemoryMib: number;
  /** Response bytes handed to a stream and not yet taken by its socket. */
  maxUnsentBytesPerStream: number;
  /**
   * A stream whose oldest write to its socket has not completed for this long cannot take its
   * writes (a client that stopped reading): it is ended, and drains stop waiting for it.
   */
  writeStallTimeoutMs: number;
  /** A connection that has opened no stream this long after it was accepted is closed. */
  handshakeTimeoutMs: number;
  /** A connection with no open stream for this long is closed. */
  idleConnectionTimeoutMs: number;
  /** A request message begun but not finished within this is given up on, and its stream ended. */
  requestReadTimeoutMs: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const DEFAULT_XDS_LIMITS: Readonly<XdsLimits> = {
  maxNamesPerStream: 25_000,
  maxNamesPerPeer: 100_000,
  maxNodeBytes: 64 * KiB,
  maxRequestBytes: 1 * MiB,
  // Proxyless gRPC opens an ADS stream per xds:/// target: gRPC C-core multiplexes them on one
  // connection, grpc-go and grpc-java open a connection each (docs/XDS-CLIENTS.md). These two
  // bound one pod's targets; lower, an application calling many services stalls or is refused.
  maxStreamsPerConnection: 100,
  maxConnections: 20_000,
  maxConnectionsPerPeer: 128,
  maxSessionMemoryMib: 32,
  maxUnsentBytesPerStream: 32 * MiB,
  writeStallTimeoutMs: 30_000,
  handshakeTimeoutMs: 10_000,
  idleConnectionTimeoutMs: 300_000,
  requestReadTimeoutMs: 30_000,
};

/** The CLI flag that sets each limit, for messages that tell a client or an operator which one it hit. */
export const LIMIT_FLAGS: Readonly<Record<keyof XdsLimits, string>> = {
  maxNamesPerStream: '--max-names-per-stream',
  maxNamesPerPeer: '--max-names-per-peer',
  maxNodeBytes: '--max-node-bytes',
  maxRequestBytes: '--max-request-bytes',
  maxStreamsPerConnection: '--max-streams-per-connection',
  maxConnections: '--max-connections',
  maxConnectionsPerPeer: '--max-connections-per-peer',
  maxSessionMemoryMib: '--max-session-memory-mib',
  maxUnsentBytesPerStream: '--max-unsent-bytes-per-stream',
  writeStallTimeoutMs: '--write-stall-timeout',
  handshakeTimeoutMs: '--handshake-timeout',
  idleConnectionTimeoutMs: '--idle-connection-timeout',
  requestReadTimeoutMs: '--request-read-timeout',
};

export function withDefaultLimits(limits: Partial<XdsLimits> | undefined): XdsLimits {
  return { ...DEFAULT_XDS_LIMITS, ...limits };
}
