// The floor under a drain's fan-out: one Node thread writing one small message (a drain's
// 1.7 KB assignment) to each of N loopback TCP sockets, with no HTTP/2 or xDS on top. The
// sockets' other ends live in the same process, so N is capped by the file descriptor limit
// (two per connection).
//
//   node .cache/bench-js/bench/write-floor.js [N=9000] [rounds=3]
import * as net from 'node:net';

const connections = Number(process.argv[2] ?? 9_000);
const rounds = Number(process.argv[3] ?? 3);
const MESSAGE_BYTES = 1_700;
const CONNECT_BATCH = 500;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    accepted.push(socket);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4_096 }, resolve));
  const port = (server.address() as net.AddressInfo).port;

  let received = 0;
  let lastReceivedAt = 0;
  const clients: net.Socket[] = [];
  for (let i = 0; i < connections; i++) {
    const client = net.connect(port, '127.0.0.1');
    client.on('data', (chunk: Buffer) => {
      received += chunk.length;
      lastReceivedAt = performance.now();
    });
    clients.push(client);
    if (i % CONNECT_BATCH === CONNECT_BATCH - 1) await pause(20);
  }
  for (let waited = 0; accepted.length < connections; waited += 20) {
    if (waited > 60_000) throw new Error(`only ${accepted.length} of ${connections} connections accepted in 60 s`);
    await pause(20);
  }

  const message = Buffer.alloc(MESSAGE_BYTES, 7);
  for (let round = 1; round <= rounds; round++) {
    await pause(300);
    received = 0;
    let written = 0;
    let writtenAt = 0;
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    for (const socket of accepted) {
      socket.write(message, () => {
        if (++written === connections) writtenAt = performance.now();
      });
    }
    const loopEnd = performance.now();
    for (let waited = 0; received < connections * MESSAGE_BYTES; waited++) {
      if (waited > 1_000_000) throw new Error('not every message arrived');
      await new Promise((resolve) => setImmediate(resolve));
    }
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(
      `round ${round}: ${connections} sockets; write loop ${(loopEnd - start).toFixed(0)} ms, ` +
        `every write done ${(writtenAt - start).toFixed(0)} ms, every message received ${(lastReceivedAt - start).toFixed(0)} ms, ` +
        `CPU user ${(cpu.user / 1000).toFixed(0)} ms + system ${(cpu.system / 1000).toFixed(0)} ms\n`,
    );
  }
  for (const socket of [...clients, ...accepted]) socket.destroy();
  server.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`write-floor failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
