import * as net from 'node:net';

/**
 * Listening sockets per address. Since libuv 1.45 Node accepts one connection per listening
 * socket per event-loop turn; while a reconnecting fleet keeps each turn busy for tens of
 * milliseconds, that is a few hundred connections a second, the accept queue (capped by
 * net.core.somaxconn) stays full, SYNs are dropped and Envoys wait out retransmission timers.
 * Several sockets bound with SO_REUSEPORT each take one connection per turn and each have
 * their own queue. Node has the option from 22.12 / 23.1; older Nodes get one socket.
 */
export const REUSE_PORT_SUPPORTED = ((): boolean => {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major >= 23 || (major === 22 && minor >= 12);
})();

export interface ListenOptions {
  address: string;
  /** 0 picks a free port. */
  port: number;
  backlog: number;
  /** Sockets to bind when SO_REUSEPORT is available. */
  sockets: number;
  onConnection: (socket: net.Socket) => void;
}

function bind(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Binds the address; returns the listening servers (at least one). The first socket is bound
 * without SO_REUSEPORT and closed again, so a port some other process holds still fails with
 * EADDRINUSE instead of being silently shared with it.
 */
export async function listenSockets(options: ListenOptions): Promise<net.Server[]> {
  const make = (): net.Server => net.createServer({ pauseOnConnect: true }, options.onConnection);
  const first = make();
  await bind(first, { host: options.address, port: options.port, backlog: options.backlog });
  if (!REUSE_PORT_SUPPORTED || options.sockets <= 1) return [first];
  const port = (first.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => first.close(() => resolve()));
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < options.sockets; i++) {
      const server = make();
      await bind(server, { host: options.address, port, backlog: options.backlog, reusePort: true } as net.ListenOptions);
      servers.push(server);
    }
  } catch (err) {
    for (const server of servers) server.close();
    throw err;
  }
  return servers;
}
