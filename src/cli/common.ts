import type { Argv } from 'yargs';
import type { Daemon } from '../app/index.js';
import type { Logger } from '../telemetry/index.js';

/** Flags `serve` and `demo` share, so several Heralds can run side by side. */
export function withListenerFlags<T>(args: Argv<T>) {
  return args
    .option('xds-port', { type: 'number', default: 18000, describe: 'gRPC port for xDS (0 picks a free port)' })
    .option('xds-host', { type: 'string', default: '0.0.0.0', describe: 'address the xDS server binds' })
    .option('admin-port', { type: 'number', default: 18001, describe: 'HTTP port for /healthz, /readyz, /metrics, /debug/*' })
    .option('admin-host', { type: 'string', default: '0.0.0.0', describe: 'address the admin server binds' })
    .option('log-level', {
      type: 'string',
      choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
      describe: 'pino log level',
    });
}

/**
 * Keeps the process alive until SIGTERM/SIGINT, then stops the daemon within a bound.
 * A second signal exits at once.
 */
export function runUntilSignalled(daemon: Daemon, logger: Logger, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal, graceMs }, 'shutting down');
      daemon.stop(graceMs).then(
        () => {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          resolve();
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
