import { pino, type Logger, type DestinationStream } from 'pino';
import { PinoPretty } from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Defaults to stdout; tests pass a stream to capture or silence. */
  destination?: DestinationStream;
  /**
   * One readable, coloured line per event instead of JSON, for a person at a terminal; log
   * collectors get JSON.
   */
  pretty?: boolean;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = { level: options.level ?? 'info', base: { service: 'herald' } };
  if (options.pretty) {
    const destination = options.destination ?? 1;
    return pino(settings, PinoPretty({ sync: true, colorize: destination === 1, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', destination }));
  }
  return pino(settings, options.destination ?? pino.destination({ dest: 1, sync: false }));
}

/** Whether logs go to a person: stdout is a terminal. */
export function stdoutIsTerminal(): boolean {
  return process.stdout.isTTY === true;
}

/** A logger that writes nothing, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
