import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listenSockets, REUSE_PORT_SUPPORTED } from '../../src/xds/transport/accept-sockets.js';

const open: net.Server[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

const connectTo = (port: number): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });

describe('listenSockets', () => {
  it('binds several sockets to one port where SO_REUSEPORT exists (one elsewhere), and each connection reaches the handler once', async () => {
    const accepted: net.Socket[] = [];
    const servers = await listenSockets({ address: '127.0.0.1', port: 0, backlog: 128, sockets: 4, onConnection: (s) => accepted.push(s) });
    open.push(...servers);
    expect(servers).toHaveLength(REUSE_PORT_SUPPORTED ? 4 : 1);
    const ports = new Set(servers.map((s) => (s.address() as net.AddressInfo).port));
    expect(ports.size).toBe(1);
    const [port] = [...ports];
    const clients = await Promise.all(Array.from({ length: 40 }, () => connectTo(port!)));
    const deadline = Date.now() + 5000;
    while (accepted.length < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(accepted).toHaveLength(40);
    for (const socket of [...clients, ...accepted]) socket.destroy();
  });

  it('still refuses a port another socket holds', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen({ host: '127.0.0.1', port: 0 }, resolve));
    open.push(holder);
    const port = (holder.address() as net.AddressInfo).port;
    await expect(listenSockets({ address: '127.0.0.1', port, backlog: 128, sockets: 4, onConnection: () => {} })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
