// The probe's own contract, without Herald: bounded calls, errors reported rather than hung,
// bad commands answered, and close() really ends the process.
import { afterEach, expect, it } from 'vitest';
import { GrpcGoProbe } from './grpc-go-probe.js';
import { interopSuite } from './suite.js';
import { closedLoopbackPort } from '../helpers/ports.js';

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
    const port = await closedLoopbackPort();
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
