import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { DirectoryWatches, directoriesOf, type DirectoryWatch } from '../files/index.js';
import type { HeraldMetrics, Logger } from '../telemetry/index.js';
import { checkTlsMaterial, readTlsBytes, sameTlsBytes, type TlsFiles, type TlsMaterial } from './material.js';

type CertificateProvider = grpc.experimental.CertificateProvider;
type CaListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;

export type { DirectoryWatch };

export interface TlsReloaderOptions {
  files: TlsFiles;
  logger: Logger;
  metrics: HeraldMetrics;
  /** Re-read the files this often even without a file event (a missed event, a watch lost with its directory); default 60 s. */
  pollIntervalMs?: number;
  /** After a file event, wait this long before reading, so a writer in mid-rotation can finish; default 200 ms. */
  settleMs?: number;
  /** How a directory is watched; defaults to fs.watch. */
  watchDirectory?: (dir: string, onEvent: () => void, onError: (err: Error) => void) => DirectoryWatch;
}

const DEFAULT_POLL_INTERVAL_MS = 60_000;
const DEFAULT_SETTLE_MS = 200;

/** What a failed reload was about, so the same bad files are logged and counted once, not every poll. */
function failureKey(message: string, bytes: Buffer[]): string {
  const hash = createHash('sha256');
  for (const part of bytes) hash.update(part);
  return `${message} ${hash.digest('hex')}`;
}

/**
 * The xDS server's certificate, key and CA, re-read when their files change and handed to
 * grpc-js as a certificate provider: grpc-js gives each change to the TLS server
 * (setSecureContext), so new handshakes use it at once while established connections, and
 * their streams, go on. The directories are watched rather than the files: a Kubernetes Secret
 * volume rotates by swapping its `..data` symlink, which no watch on the old file sees.
 * Material is published only once it loads (key matching certificate, every PEM parsing), so a
 * file caught half written or a certificate renewed before its key leaves the old material in
 * use; grpc-js would otherwise refuse every new connection until the next good update.
 */
export class TlsReloader implements CertificateProvider {
  private material: TlsMaterial;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  /** Watched directories: each file's own and, for a symlink, its target's (which a swap moves). */
  private readonly watches: DirectoryWatches;
  private readonly poll: NodeJS.Timeout;
  private settleTimer: NodeJS.Timeout | undefined;
  private lastFailure: string | undefined;
  private closed = false;

  /** Loads the files (throws TlsMaterialError when they do not load) and starts watching them. */
  constructor(private readonly options: TlsReloaderOptions) {
    this.material = checkTlsMaterial(readTlsBytes(options.files));
    this.setExpiry();
    this.watches = new DirectoryWatches(
      () => this.soon(),
      (err, dir) => options.logger.warn({ err, dir }, 'TLS file watch failed; the files are still re-read periodically'),
      options.watchDirectory,
    );
    this.rewatch();
    this.poll = setInterval(() => this.reload(), options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    this.poll.unref();
  }

  /** The material new handshakes use. */
  current(): TlsMaterial {
    return this.material;
  }

  /**
   * Server credentials fed by this reloader. With a CA, clients must present a certificate it
   * signed; the CA follows its file like the serving pair does.
   */
  credentials(): grpc.ServerCredentials {
    const withCa = this.options.files.caPath !== undefined;
    // grpc-js's parameter names are swapped against its use: the first provider serves the
    // identity and the second the CA. This object is both, so only "no CA" (null) matters.
    return grpc.experimental.createCertificateProviderServerCredentials(this, withCa ? this : null, withCa);
  }

  /** Reads the files now; publishes them when they changed and load. Returns what happened. */
  reload(): 'unchanged' | 'reloaded' | 'failed' {
    if (this.closed) return 'unchanged';
    this.rewatch();
    let bytes;
    try {
      bytes = readTlsBytes(this.options.files);
    } catch (err) {
      this.failed(err as Error, []);
      return 'failed';
    }
    if (sameTlsBytes(bytes, this.material)) {
      this.lastFailure = undefined;
      return 'unchanged';
    }
    let next: TlsMaterial;
    try {
      next = checkTlsMaterial(bytes);
    } catch (err) {
      this.failed(err as Error, [bytes.cert, bytes.key, bytes.ca ?? Buffer.alloc(0)]);
      return 'failed';
    }
    const previous = this.material;
    this.material = next;
    this.lastFailure = undefined;
    const caChanged = !(next.ca === undefined ? previous.ca === undefined : previous.ca !== undefined && next.ca.equals(previous.ca));
    const identityChanged = !next.cert.equals(previous.cert) || !next.key.equals(previous.key);
    if (caChanged) for (const listener of this.caListeners) listener(this.caUpdate());
    if (identityChanged) for (const listener of this.identityListeners) listener(this.identityUpdate());
    this.setExpiry();
    this.options.metrics.tlsReloads.inc();
    this.options.logger.info(
      {
        changed: [...(identityChanged ? ['cert/key'] : []), ...(caChanged ? ['ca'] : [])],
        certExpiresAt: new Date(next.certExpiresAtMs).toISOString(),
        ...(next.caExpiresAtMs === undefined ? {} : { caExpiresAt: new Date(next.caExpiresAtMs).toISOString() }),
      },
      'TLS material reloaded; new handshakes use it',
    );
    return 'reloaded';
  }

  /** Stops watching; the material last published stays in use. */
  close(): void {
    this.closed = true;
    clearInterval(this.poll);
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.watches.close();
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    // Later, never now: grpc-js registers its own watcher only after this returns, and an
    // update it misses would leave the server refusing connections.
    queueMicrotask(() => {
      if (this.caListeners.has(listener)) listener(this.caUpdate());
    });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    queueMicrotask(() => {
      if (this.identityListeners.has(listener)) listener(this.identityUpdate());
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  private caUpdate(): grpc.experimental.CaCertificateUpdate | null {
    return this.material.ca === undefined ? null : { caCertificate: this.material.ca };
  }

  private identityUpdate(): grpc.experimental.IdentityCertificateUpdate {
    return { certificate: this.material.cert, privateKey: this.material.key };
  }

  /** Watches the directories that hold the files now, and stops watching those that no longer do. */
  private rewatch(): void {
    const { certPath, keyPath, caPath } = this.options.files;
    this.watches.update(directoriesOf([certPath, keyPath, ...(caPath === undefined ? [] : [caPath])]));
  }

  /** A burst of events (a rotation writes several files) becomes one read once it settles. */
  private soon(): void {
    if (this.closed) return;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      this.reload();
    }, this.options.settleMs ?? DEFAULT_SETTLE_MS);
    this.settleTimer.unref();
  }

  private failed(err: Error, bytes: Buffer[]): void {
    const key = failureKey(err.message, bytes);
    if (key === this.lastFailure) return;
    this.lastFailure = key;
    this.options.metrics.tlsReloadFailures.inc();
    this.options.logger.warn({ error: err.message }, 'TLS files changed but do not load; keeping the previous certificate, key and CA');
  }

  private setExpiry(): void {
    const gauge = this.options.metrics.tlsCertificateExpiry;
    gauge.set({ certificate: 'serving' }, this.material.certExpiresAtMs / 1000);
    if (this.material.caExpiresAtMs !== undefined) gauge.set({ certificate: 'ca' }, this.material.caExpiresAtMs / 1000);
  }
}
