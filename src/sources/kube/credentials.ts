import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { DirectoryWatches, directoriesOf, type WatchDirectory } from '../../files/index.js';

/**
 * A kubeconfig that can be read again from its files: config's FileKubeConfig. Recognised by
 * shape so that this stage needs nothing from config/.
 */
export interface ReloadableKubeConfig extends KubeConfig {
  /** Every file the config depends on (kubeconfig, token, certificates). */
  credentialFiles(): string[];
  /** Reads the files again; throws when they no longer make a valid config. */
  reload(): ReloadableKubeConfig;
}

export function isReloadable(kc: KubeConfig): kc is ReloadableKubeConfig {
  const candidate = kc as Partial<ReloadableKubeConfig>;
  return typeof candidate.credentialFiles === 'function' && typeof candidate.reload === 'function';
}

/**
 * What the files hold now, as one hash; a missing file hashes as such (so its return counts as
 * a change). Pure apart from reading the files.
 */
export function fingerprintFiles(paths: readonly string[], read: (path: string) => Buffer = readFileSync): string {
  const hash = createHash('sha256');
  for (const path of paths) {
    hash.update(path).update('\0');
    try {
      hash.update('+').update(read(path));
    } catch {
      hash.update('-');
    }
    hash.update('\0');
  }
  return hash.digest('hex');
}

export interface CredentialWatcherOptions {
  /** The files to follow; asked again after every change (a new kubeconfig may name other files). */
  files: () => string[];
  /** Called once per settled change of the files' contents. */
  onChange: () => void;
  onWatchError: (error: Error, dir: string) => void;
  /** Re-hash this often even without a file event (an event lost with its directory); default 30 s. */
  pollIntervalMs?: number;
  /** Wait this long after an event so a writer mid-rotation can finish; default 200 ms. */
  settleMs?: number;
  watchDirectory?: WatchDirectory;
}

/**
 * Follows a cluster's credential files the way the TLS reloader follows its certificates: it
 * watches directories rather than files (a Kubernetes Secret update swaps the `..data` symlink,
 * which no watch on the old file sees), lets a burst of events settle, and polls as a fallback.
 * It reports a change only when the bytes differ, so a touch or a remount is no reconnect.
 */
export class CredentialWatcher {
  private readonly watches: DirectoryWatches;
  private readonly poll: NodeJS.Timeout;
  private settleTimer: NodeJS.Timeout | undefined;
  private fingerprint: string;
  private closed = false;

  constructor(private readonly options: CredentialWatcherOptions) {
    this.fingerprint = fingerprintFiles(options.files());
    this.watches = new DirectoryWatches(() => this.soon(), options.onWatchError, options.watchDirectory);
    this.rewatch();
    this.poll = setInterval(() => this.check(), options.pollIntervalMs ?? 30_000);
    this.poll.unref();
  }

  /** Hashes the files now and reports a change if there is one. */
  check(): boolean {
    if (this.closed) return false;
    this.rewatch();
    const next = fingerprintFiles(this.options.files());
    if (next === this.fingerprint) return false;
    this.fingerprint = next;
    this.options.onChange();
    // The change may name other files (a new token path): watch those from now on.
    this.rewatch();
    this.fingerprint = fingerprintFiles(this.options.files());
    return true;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.poll);
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.watches.close();
  }

  private rewatch(): void {
    this.watches.update(directoriesOf(this.options.files()));
  }

  private soon(): void {
    if (this.closed) return;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      this.check();
    }, this.options.settleMs ?? 200);
    this.settleTimer.unref();
  }
}
