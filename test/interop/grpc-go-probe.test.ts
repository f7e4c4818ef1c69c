// The probe's own contract, without Herald: bounded calls, errors reported rather than hung,
// bad commands answered, and close() really ends the process.
import net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { GrpcGoProbe } from './grpc-go-probe.js';
import { interopSuite } from './suite.js';

/** A loopback port nobody listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interopSuite('grpc-xds-probe contract', (tools) => {
  let probe: GrpcGoProbe | undefined;

  afterEach(async () => {
    await probe?.close();
    probe = undefined;
  });

  async function startAgainstNothing(): Promise<GrpcGoProbe> {
    const port = await deadPort();
    return GrpcGoProbe.start({
      binary: tools.grpcXdsProbe,
      target: 'xds:///echo',
      callDeadlineMs: 300,
      bootstrap: {
        xds_servers: [{ server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
        node: { id: 'probe-contract', locality: { region: 'r1', zone: 'z1' } },
      },
    });
  }

  it('reports calls that cannot be served as errors within their deadlines', async () => {
    probe = await startAgainstNothing();
    const report = await probe.call(2);
    expect(report.backends).toEqual({});
    expect(report.errors).toBe(2);
    expect(report.lastError).toMatch(/DeadlineExceeded|Unavailable/);
  });

  it('answers an unknown command with an error and keeps going', async () => {
    probe = await startAgainstNothing();
    await expect(probe.call(-1)).rejects.toThrow(/N must be an integer/);
    const report = await probe.call(0);
    expect(report).toEqual({ backends: {}, errors: 0 });
  });

  it('exits on close', async () => {
    probe = await startAgainstNothing();
    const pid = probe.pid!;
    expect(alive(pid)).toBe(true);
    await probe.close();
    expect(alive(pid)).toBe(false);
  });
});
