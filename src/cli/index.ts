import yargs from 'yargs';
import { serveCommand } from './serve.js';
import { demoCommand } from './demo.js';
import { bootstrapCommand } from './bootstrap.js';
import { statusCommand } from './status.js';
import { waitDrainedCommand } from './wait-drained.js';
import { remoteSecretCommand } from './remote-secret.js';
import { buildInfo } from '../telemetry/index.js';
import { suggestFlags } from './suggest.js';
import { ListenError } from '../app/index.js';

/** One line naming the flag behind a listener that could not bind, instead of a stack trace. */
export function explainListenError(error: ListenError): string {
  const where = `${error.host.includes(':') ? `[${error.host}]` : error.host}:${error.port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return `--${error.listener}-port: ${where} is already in use; pick another port (0 picks a free one) or stop what listens there`;
    case 'EACCES':
      return `--${error.listener}-port: not allowed to listen on ${where} (ports below 1024 need privileges)`;
    case 'EADDRNOTAVAIL':
      return `--${error.listener}-host: ${error.host} is not an address of this machine`;
    default:
      return `--${error.listener}-host/--${error.listener}-port: cannot listen on ${where}: ${error.cause instanceof Error ? error.cause.message : String(error.cause)}`;
  }
}

/** A usage error the CLI reports in one line before exiting non-zero. */
export class UsageError extends Error {}

/** Parses argv and runs the chosen command. Resolves with the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  let exitCode = 0;
  const parser = yargs(argv)
    .scriptName('herald')
    .env('HERALD')
    .command(serveCommand((code) => (exitCode = code)))
    .command(demoCommand((code) => (exitCode = code)))
    .command(bootstrapCommand((code) => (exitCode = code)))
    .command(statusCommand((code) => (exitCode = code)))
    .command(remoteSecretCommand((code) => (exitCode = code)))
    .command(waitDrainedCommand((code) => (exitCode = code)))
    .demandCommand(1, 'name a command: serve, demo, bootstrap, status, remote-secret or wait-drained')
    .strict()
    .recommendCommands()
    .help()
    .version(buildInfo().version)
    .wrap(100)
    .fail((message, error, instance) => {
      if (error) throw error;
      // The third argument is yargs' usage object: its descriptions are keyed by the command's flags.
      const usage = instance as unknown as { getDescriptions?: () => Record<string, unknown> };
      const hint = suggestFlags(message, Object.keys(usage.getDescriptions?.() ?? {}));
      throw new UsageError(hint === undefined ? message : `${message}\n${hint}`);
    });
  try {
    await parser.parseAsync();
  } catch (error) {
    if (error instanceof ListenError) {
      process.stderr.write(`herald: error: ${explainListenError(error)}\n`);
      return 2;
    }
    process.stderr.write(`herald: error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof UsageError) process.stderr.write('Run "herald --help" for usage.\n');
    return 2;
  }
  return exitCode;
}
