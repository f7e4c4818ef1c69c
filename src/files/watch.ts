import { realpathSync, watch } from 'node:fs';
import { dirname } from 'node:path';

/** Stops watching one directory. */
export interface DirectoryWatch {
  close(): void;
}

/** How a directory is watched: fs.watch in production, a stub in tests. */
export type WatchDirectory = (dir: string, onEvent: () => void, onError: (err: Error) => void) => DirectoryWatch;

export const watchWithFs: WatchDirectory = (dir, onEvent, onError) => {
  const watcher = watch(dir, { persistent: false }, () => onEvent());
  watcher.on('error', onError);
  return watcher;
};

/**
 * The directories to watch for these files: each one's own, and for a symlink its target's.
 * A Kubernetes Secret volume updates by swapping its `..data` symlink, which no watch on the
 * old file sees; the directories see it.
 */
export function directoriesOf(paths: readonly string[], realpath: (path: string) => string = realpathSync): Set<string> {
  const dirs = new Set<string>();
  for (const path of paths) {
    dirs.add(dirname(path));
    try {
      dirs.add(dirname(realpath(path)));
    } catch {
      // Gone for now (mid-swap); the next event or poll looks again.
    }
  }
  return dirs;
}

/** A set of directory watches kept equal to the set asked for last, all reporting to one callback. */
export class DirectoryWatches {
  private readonly watches = new Map<string, DirectoryWatch>();

  constructor(
    private readonly onEvent: () => void,
    private readonly onError: (err: Error, dir: string) => void,
    private readonly watchDirectory: WatchDirectory = watchWithFs,
  ) {}

  /** Watches exactly `wanted`: starts the new ones, stops those no longer wanted. */
  update(wanted: ReadonlySet<string>): void {
    for (const [dir, w] of this.watches) {
      if (wanted.has(dir)) continue;
      w.close();
      this.watches.delete(dir);
    }
    for (const dir of wanted) {
      if (this.watches.has(dir)) continue;
      const onError = (err: Error) => this.onError(err, dir);
      try {
        this.watches.set(dir, this.watchDirectory(dir, this.onEvent, onError));
      } catch (err) {
        onError(err as Error);
      }
    }
  }

  close(): void {
    for (const w of this.watches.values()) w.close();
    this.watches.clear();
  }
}
