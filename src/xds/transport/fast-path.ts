// Which read and write path each stream took: grpc-js's public API, or the fast path below it
// (grpcjs-call.ts). The fast path depends on grpc-js internals, so an upgrade that changes their
// shape falls back silently; the metric and the log lines here make that visible.
import { createRequire } from 'node:module';
import type { Counter } from 'prom-client';
import type { Logger } from '../../telemetry/index.js';

export type WritePath = 'direct' | 'grpc-js';
export type ReadPath = 'splitter' | 'grpc-js';

/** The installed @grpc/grpc-js version, for logs. */
export function grpcJsVersion(): string {
  try {
    return (createRequire(import.meta.url)('@grpc/grpc-js/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export class TransportPaths {
  private loggedFirst = false;
  private warnedFallback = false;

  constructor(
    /** Whether the fast path is allowed (the --grpc-fast-path flag). */
    readonly enabled: boolean,
    private readonly counter: Counter<'write' | 'read'>,
    private readonly logger: Logger,
  ) {}

  /** Counts one stream's paths; logs the first stream's, and warns once if the fast path was allowed but not taken. */
  record(write: WritePath, read: ReadPath): void {
    this.counter.inc({ write, read });
    if (!this.loggedFirst) {
      this.loggedFirst = true;
      this.logger.info({ write, read, fastPath: this.enabled, grpcJs: grpcJsVersion() }, 'xDS stream paths of the first stream');
    }
    if (this.enabled && (write !== 'direct' || read !== 'splitter') && !this.warnedFallback) {
      this.warnedFallback = true;
      this.logger.warn(
        { write, read, grpcJs: grpcJsVersion() },
        'grpc-js fast path not taken although enabled: its internals have another shape; streams work, slower (see CONTRIBUTING.md, upgrading grpc-js)',
      );
    }
  }
}
