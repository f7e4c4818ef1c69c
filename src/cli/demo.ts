import type { CommandModule } from 'yargs';
import { startDaemon } from '../app/index.js';
import type { DrainResult } from '../drains/index.js';
import { ConfigError, validateDuration, validateHost, validateLogLevel, validatePort } from '../config/index.js';
import { loadEnvoyProtos } from '../resources/index.js';
import { SimulatedCluster, StaticPolicySource } from '../sources/sim/index.js';
import { createLogger, HeraldMetrics, stdoutIsTerminal } from '../telemetry/index.js';
import { AdsClient } from '../xdsclient/index.js';
import { DEMO_POLICY_NAMESPACE, demoClusters, demoPolicies, DEMO_TIMING } from './demo-mesh.js';
import { runUntilSignalled, withListenerFlags } from './common.js';

function positiveInt(flag: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ConfigError(`${flag}: '${String(value)}' must be a whole number from 1 to ${max}`);
  }
  return value;
}

/** Where a local client dials a server bound to `host`: a wildcard bind is reached on loopback. */
/** A duration flag ('3s', '2m') from more than 0 up to max. */
function boundedDuration(flag: string, value: unknown, maxMs: number): number {
  const ms = validateDuration(flag, value, { allowZero: false });
  if (ms > maxMs) throw new ConfigError(`${flag}: at most ${maxMs / 3_600_000}h`);
  return ms;
}

function dialHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

/** `host:port` a local client dials for a server bound to `host` (IPv6 in brackets). */
function dialAddress(host: string, port: number): string {
  const dial = dialHost(host);
  return dial.includes(':') ? `[${dial}]:${port}` : `${dial}:${port}`;
}

/** Printed after an address when the port is open to other machines too. */
function exposureNote(host: string): string {
  return dialHost(host) === host ? '' : `  (bound to ${host}: reachable from other machines)`;
}

function drainLine(result: DrainResult): string {
  const who = `${result.cluster}/${result.podKey}`;
  const where = `${result.ip}:${result.port}`;
  if (result.clients === 0) return `DRAINING ${who} ${where} (${result.service}): no xDS client subscribed\n`;
  const ms = Math.round(result.propagationSeconds * 1000);
  const verdict = result.complete ? `ACKed by ${result.acked}/${result.clients} clients in ${ms} ms` : `only ${result.acked}/${result.clients} clients ACKed within the timeout`;
  return `DRAINING ${who} ${where} (${result.service}): ${verdict}\n`;
}

/** Nothing outside the machine has business with a demo: it binds loopback unless told otherwise. */
const DEMO_HOST = '127.0.0.1';

export function demoCommand(setExitCode: (code: number) => void): CommandModule {
  return {
    command: 'demo',
    describe: 'Run Herald on built-in simulated clusters with rolling deploys; print every drain',
    builder: (args) =>
      withListenerFlags(args, DEMO_HOST)
        .option('envoys', { type: 'number', default: 3, describe: 'simulated Envoy sidecars connected over ADS (your own Envoys may connect too)' })
        .option('deploy-every', { type: 'string', default: '3s', describe: 'time between rolling deploys in each simulated cluster' })
        .option('duration', { type: 'string', describe: 'stop after this long, e.g. 2m (default: run until Ctrl-C)' }),
    handler: async (argv) => {
      const xdsHost = validateHost('--xds-host', argv['xdsHost']);
      const adminHost = validateHost('--admin-host', argv['adminHost']);
      const xdsPort = validatePort('--xds-port', argv['xdsPort']);
      const adminPort = validatePort('--admin-port', argv['adminPort']);
      const envoys = positiveInt('--envoys', argv['envoys'], 500);
      const deployEveryMs = boundedDuration('--deploy-every', argv['deployEvery'], 3_600_000);
      const durationMs = argv['duration'] === undefined ? undefined : boundedDuration('--duration', argv['duration'], 86_400_000);
      const logLevel = argv['logLevel'] === undefined ? 'warn' : validateLogLevel('--log-level', argv['logLevel']);
      if (xdsPort !== 0 && xdsPort === adminPort) throw new ConfigError(`--admin-port: ${adminPort} is also the --xds-port`);

      const logger = createLogger({ level: logLevel, pretty: stdoutIsTerminal() });
      const metrics = new HeraldMetrics();
      const clusters = demoClusters().map((options) => new SimulatedCluster({ ...options, timing: DEMO_TIMING }));
      const policySources = clusters.map((cluster) => new StaticPolicySource(cluster.name, demoPolicies(cluster.name)));
      const daemon = await startDaemon(
        {
          sources: clusters,
          policies: { sources: policySources, clusters: policySources.map((source) => source.name), namespace: DEMO_POLICY_NAMESPACE },
          localCluster: clusters[0]!.name,
          initialSyncTimeoutMs: 10_000,
          xds: { host: xdsHost, port: xdsPort },
          admin: { host: adminHost, port: adminPort },
        },
        { logger, metrics },
      );
      // Once stopping, the simulated Envoys are gone first: drains after that would read as unheard.
      let stopping = false;
      daemon.onDrain((result) => {
        if (!stopping) process.stdout.write(drainLine(result));
      });
      await daemon.ready;

      const protos = loadEnvoyProtos();
      const sidecars = Array.from({ length: envoys }, (_, i) =>
        new AdsClient({ target: dialAddress(xdsHost, daemon.xdsPort), nodeId: `demo-envoy-${i}`, cluster: 'demo', zone: 'a', region: 'demo', protos }).start(),
      );
      process.stdout.write(
        `Herald demo: ${clusters.length} simulated Kubernetes clusters, ${daemon.store.serviceNames().length} services, ` +
          `${envoys} simulated Envoys on ADS.\n` +
          `  xDS   ${dialAddress(xdsHost, daemon.xdsPort)}${exposureNote(xdsHost)}\n` +
          `  admin http://${dialAddress(adminHost, daemon.adminPort!)}/ui  (live page; JSON at /debug/services, /debug/clients, /debug/policies; /metrics, /readyz)${exposureNote(adminHost)}\n` +
          `Rolling deploys start now; each line below is one terminating pod told to every Envoy as DRAINING.\n`,
      );
      for (const cluster of clusters) cluster.startAutopilot({ intervalMs: deployEveryMs });

      const stopTimer = durationMs === undefined ? undefined : setTimeout(() => process.kill(process.pid, 'SIGTERM'), durationMs);
      await runUntilSignalled(
        {
          ...daemon,
          stop: async (graceMs) => {
            stopping = true;
            if (stopTimer) clearTimeout(stopTimer);
            for (const cluster of clusters) cluster.stopAutopilot();
            await Promise.all(sidecars.map((sidecar) => sidecar.close()));
            await daemon.stop(graceMs);
          },
        },
        logger,
        2_000,
      );
      setExitCode(0);
    },
  };
}
