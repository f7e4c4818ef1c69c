import type { Argv } from 'yargs';
import type { Daemon } from '../app/index.js';
import { ConfigError, validateDuration } from '../config/index.js';
import type { Logger } from '../telemetry/index.js';

/**
 * Flags `serve` and `demo` share, so several Heralds can run side by side. `serve` binds every
 * interface (Envoys, the kubelet and Prometheus reach it from outside the pod); `demo` binds
 * loopback, since nothing outside the machine has business with it.
 */
export function withListenerFlags<T>(args: Argv<T>, defaultHost: string) {
  return args
    .option('xds-port', { type: 'string', default: '18000', describe: 'gRPC port for xDS (0 picks a free port)' })
    .option('xds-host', { type: 'string', default: defaultHost, describe: 'address the xDS server binds' })
    .option('admin-port', { type: 'string', default: '18001', describe: 'HTTP port for /healthz, /readyz, /metrics, /debug/*' })
    .option('admin-host', { type: 'string', default: defaultHost, describe: 'address the admin server binds' })
    .option('log-level', {
      type: 'string',
      choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
      describe: 'pino log level',
    });
}

/** How long past the grace a stuck shutdown may take before the process gives up on it. */
const STOP_OVERRUN_MS = 5_000;
/** After a clean stop, how long the event loop may stay busy (a lingering socket) before exiting anyway. */
const EXIT_LINGER_MS = 2_000;

/**
 * Keeps the process alive until SIGTERM/SIGINT, then hands the clients over and stops the daemon
 * within graceMs (see Daemon.stop). A second signal exits at once; a stop that overruns the grace
 * by STOP_OVERRUN_MS exits non-zero, since Kubernetes would SIGKILL it soon anyway.
 */
export function runUntilSignalled(daemon: Pick<Daemon, 'stop'>, logger: Logger, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal, graceMs }, 'shutting down');
      const overrun = setTimeout(() => {
        logger.error({ graceMs }, 'shutdown overran its grace: exiting now');
        process.exit(1);
      }, graceMs + STOP_OVERRUN_MS);
      daemon.stop(graceMs).then(
        () => {
          clearTimeout(overrun);
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          // Unref'd: it fires only if something still holds the event loop after a clean stop.
          setTimeout(() => {
            logger.warn('event loop still busy after shutdown; exiting');
            process.exit(process.exitCode ?? 0);
          }, EXIT_LINGER_MS).unref();
          resolve();
        },
        (error: unknown) => {
          clearTimeout(overrun);
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** Flags of a long-running command that hands its xDS clients over to other replicas on SIGTERM. */
export function withShutdownFlags<T>(args: Argv<T>) {
  return args
    .option('shutdown-grace', {
      type: 'string',
      default: '10s',
      describe: 'on SIGTERM, hand xDS clients over and exit within this time (keep it below terminationGracePeriodSeconds)',
    })
    .option('handoff-delay', {
      type: 'string',
      default: '0s',
      describe: 'on SIGTERM, keep serving this long with /readyz failing before ending streams (at most half the grace)',
    });
}

export interface ShutdownSettings {
  graceMs: number;
  handoffDelayMs: number;
}

/** Reads the withShutdownFlags values; throws ConfigError on a bad duration. */
export function shutdownSettings(argv: Record<string, unknown>): ShutdownSettings {
  const graceMs = validateDuration('--shutdown-grace', argv['shutdownGrace'] ?? '10s', { allowZero: false });
  if (graceMs > 3_600_000) throw new ConfigError('--shutdown-grace: at most 1h');
  const handoffDelayMs = validateDuration('--handoff-delay', argv['handoffDelay'] ?? '0s');
  if (handoffDelayMs > graceMs / 2) throw new ConfigError('--handoff-delay: at most half of --shutdown-grace');
  return { graceMs, handoffDelayMs };
}
