// A directory laid out and updated as the kubelet does a Secret volume: the files are symlinks
// into `..data`, itself a symlink to a timestamped directory, and an update writes a new
// directory and renames a fresh `..data_tmp` symlink over `..data` (one atomic swap).
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class SecretVolume {
  private generation = 0;
  private current: string | undefined;

  constructor(
    readonly dir: string,
    files: Record<string, Buffer>,
  ) {
    mkdirSync(dir, { recursive: true });
    const names = Object.keys(files);
    this.writeGeneration(files);
    symlinkSync(this.current!, join(dir, '..data'));
    for (const name of names) symlinkSync(join('..data', name), join(dir, name));
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Swaps every file at once, as a Secret update does. */
  swap(files: Record<string, Buffer>): void {
    const old = this.current!;
    this.writeGeneration(files);
    symlinkSync(this.current!, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    rmSync(join(this.dir, old), { recursive: true, force: true });
  }

  private writeGeneration(files: Record<string, Buffer>): void {
    this.current = `..gen_${++this.generation}`;
    mkdirSync(join(this.dir, this.current));
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(this.dir, this.current, name), bytes);
  }
}
