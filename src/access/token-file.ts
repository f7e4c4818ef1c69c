import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../telemetry/index.js';
import { isBearerToken } from './decide.js';

export interface TokenFileOptions {
  path: string;
  /** The token as read when the configuration was checked (a missing file is a config error there). */
  initial: string;
  logger: Logger;
  /** Re-read at least this often, for filesystems where change notifications do not arrive (default 10 s). */
  pollMs?: number;
}

/** The token in a file's text: surrounding whitespace (a trailing newline) is not part of it. */
export function tokenOf(text: string): string | undefined {
  const token = text.trim();
  return token === '' ? undefined : token;
}

/**
 * The admin bearer token, kept in step with its file. A Kubernetes Secret volume replaces its
 * files by swapping a symlink in the directory, so the directory is watched, not the file, and a
 * slow poll backs the watch up. A file that becomes unreadable or empty keeps the last token:
 * a botched rotation must not lock the operator out, nor open the door.
 */
export class TokenFile {
  private token: string;
  private readonly watcher: FSWatcher | undefined;
  private readonly poll: NodeJS.Timeout;
  private debounce: NodeJS.Timeout | undefined;
  private lastProblem: string | undefined;
  private closed = false;
  private reading: Promise<void> | undefined;
  private again = false;

  constructor(private readonly options: TokenFileOptions) {
    this.token = options.initial;
    this.watcher = this.watchDirectory();
    this.poll = setInterval(() => void this.reload(), options.pollMs ?? 10_000);
    this.poll.unref();
  }

  current(): string {
    return this.token;
  }

  /** Reads the file again now; resolves once the token in effect reflects it. */
  reload(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.reading) {
      // A change seen while reading may have come after the read: read once more afterwards.
      this.again = true;
      return this.reading;
    }
    this.reading = this.readOnce().finally(() => {
      this.reading = undefined;
      if (this.again) {
        this.again = false;
        void this.reload();
      }
    });
    return this.reading;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.poll);
    clearTimeout(this.debounce);
    this.watcher?.close();
  }

  private async readOnce(): Promise<void> {
    let problem: string | undefined;
    try {
      const token = tokenOf(await readFile(this.options.path, 'utf8'));
      if (token === undefined) problem = 'the file is empty';
      else if (!isBearerToken(token)) problem = 'the file holds characters a Bearer header cannot carry';
      else if (token !== this.token) {
        this.token = token;
        this.options.logger.info({ file: this.options.path }, 'admin token reloaded');
      }
    } catch (err) {
      problem = (err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err));
    }
    // Logged when it starts or changes, not on every poll while it lasts.
    if (problem !== undefined && problem !== this.lastProblem) {
      this.options.logger.warn({ file: this.options.path, problem }, 'admin token file unreadable; keeping the last token');
    }
    this.lastProblem = problem;
  }

  private watchDirectory(): FSWatcher | undefined {
    try {
      const watcher = watch(path.dirname(this.options.path), { persistent: false }, () => {
        // A symlink swap or an editor's save is several events; read once they settle.
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.reload(), 50);
      });
      watcher.on('error', (err) => {
        this.options.logger.warn({ err, file: this.options.path }, 'cannot watch the admin token file; polling it only');
        watcher.close();
      });
      return watcher;
    } catch (err) {
      this.options.logger.warn({ err, file: this.options.path }, 'cannot watch the admin token file; polling it only');
      return undefined;
    }
  }
}
