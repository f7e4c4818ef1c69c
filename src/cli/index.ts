import yargs from 'yargs';
import { serveCommand } from './serve.js';
import { demoCommand } from './demo.js';
import { bootstrapCommand } from './bootstrap.js';
import { statusCommand } from './status.js';
import { waitDrainedCommand } from './wait-drained.js';

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
    .command(waitDrainedCommand((code) => (exitCode = code)))
    .demandCommand(1, 'name a command: serve, demo, bootstrap, status or wait-drained')
    .strict()
    .recommendCommands()
    .help()
    .version(false)
    .wrap(100)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
  try {
    await parser.parseAsync();
  } catch (error) {
    process.stderr.write(`herald: error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof UsageError) process.stderr.write('Run "herald --help" for usage.\n');
    return 2;
  }
  return exitCode;
}
