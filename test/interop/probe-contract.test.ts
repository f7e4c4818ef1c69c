// Each probe's own contract, without Herald: bounded calls, errors reported rather than hung,
// bad commands answered, extra channels opened on request, and close() really ends the process.
import { afterEach, expect, it } from 'vitest';
import { PROXYLESS_CLIENTS } from './probe-clients.js';
import { probeSuite } from './suite.js';
import { XdsProbe } from './xds-probe.js';
import { closedLoopbackPort } from '../helpers/ports.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const client of PROXYLESS_CLIENTS) {
  probeSuite(`${client.name} probe contract`, client, (launch) => {
    let probe: XdsProbe | undefined;

    afterEach(async () => {
      await probe?.close();
      probe = undefined;
    });

    async function startAgainstNothing(): Promise<XdsProbe> {
      const port = await closedLoopbackPort();
      return XdsProbe.start({
        launch,
        label: client.name,
        target: 'xds:///echo',
        callDeadlineMs: 300,
        bootstrap: {
          xds_servers: [{ server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
          node: { id: `${client.name}-contract`, locality: { region: 'r1', zone: 'z1' } },
        },
      });
    }

    it('reports calls that cannot be served as errors within their deadlines', async () => {
      probe = await startAgainstNothing();
      const report = await probe.call(2);
      expect(report.backends).toEqual({});
      expect(report.errors).toBe(2);
      // Each library words it its own way; all name the deadline or the unavailable server.
      expect(report.lastError).toMatch(/deadline|unavailable/i);
    });

    it('answers an unknown command with an error and keeps going', async () => {
      probe = await startAgainstNothing();
      await expect(probe.call(-1)).rejects.toThrow(/N must be an integer/);
      const report = await probe.call(0);
      expect(report).toEqual({ backends: {}, errors: 0 });
    });

    it('opens more channels on request', async () => {
      probe = await startAgainstNothing();
      await probe.watch('xds:///other');
      await probe.watch('xds:///third');
      await expect(probe.call(0)).resolves.toEqual({ backends: {}, errors: 0 });
      await expect(probe.watch('xds:///a b')).rejects.toThrow(/white space/);
    });

    it('exits on close', async () => {
      probe = await startAgainstNothing();
      const pid = probe.pid!;
      expect(alive(pid)).toBe(true);
      await probe.close();
      expect(alive(pid)).toBe(false);
    });
  });
}
