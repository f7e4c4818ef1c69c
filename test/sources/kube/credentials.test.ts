import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { directoriesOf } from '../../../src/files/index.js';
import { CredentialWatcher, fingerprintFiles } from '../../../src/sources/kube/credentials.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A directory laid out as the kubelet lays a Secret volume: files are symlinks through `..data`. */
function secretVolume(files: Record<string, string>): { dir: string; update: (next: Record<string, string>) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'herald-cred-'));
  dirs.push(dir);
  let n = 0;
  const write = (content: Record<string, string>) => {
    const version = join(dir, `..v${n++}`);
    mkdirSync(version);
    for (const [name, text] of Object.entries(content)) writeFileSync(join(version, name), text);
    symlinkSync(version.slice(dir.length + 1), join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  write(files);
  for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(dir, name));
  return { dir, update: write };
}

describe('fingerprintFiles', () => {
  const table: [string, Record<string, Buffer | undefined>, Record<string, Buffer | undefined>, boolean][] = [
    ['same bytes', { a: Buffer.from('x') }, { a: Buffer.from('x') }, true],
    ['changed bytes', { a: Buffer.from('x') }, { a: Buffer.from('y') }, false],
    ['file gone', { a: Buffer.from('x') }, { a: undefined }, false],
    ['empty vs missing', { a: Buffer.alloc(0) }, { a: undefined }, false],
  ];
  it.each(table)('%s', (_name, before, after, same) => {
    const reader = (files: Record<string, Buffer | undefined>) => (path: string) => {
      const b = files[path];
      if (b === undefined) throw new Error('ENOENT');
      return b;
    };
    expect(fingerprintFiles(['a'], reader(before)) === fingerprintFiles(['a'], reader(after))).toBe(same);
  });
  it('depends on which file holds which bytes', () => {
    const read = (p: string) => Buffer.from(p === 'a' ? '1' : '2');
    expect(fingerprintFiles(['a', 'b'], read)).not.toBe(fingerprintFiles(['b', 'a'], read));
  });
});

describe('directoriesOf', () => {
  it('watches a file’s directory and its symlink target’s', () => {
    const realpath = (p: string) => (p === '/m/k' ? '/m/..v1/k' : p);
    expect([...directoriesOf(['/m/k', '/t/token'], realpath)].sort()).toEqual(['/m', '/m/..v1', '/t']);
  });
  it('keeps the directory of a file that is missing for now', () => {
    const realpath = () => {
      throw new Error('ENOENT');
    };
    expect([...directoriesOf(['/m/k'], realpath)]).toEqual(['/m']);
  });
});

describe('CredentialWatcher on a Secret volume', () => {
  it('reports a ..data swap once, and nothing when the bytes stay the same', async () => {
    const volume = secretVolume({ kubeconfig: 'v1', token: 't1' });
    let changes = 0;
    const watcher = new CredentialWatcher({
      files: () => [join(volume.dir, 'kubeconfig'), join(volume.dir, 'token')],
      onChange: () => changes++,
      onWatchError: () => undefined,
      pollIntervalMs: 60_000,
      settleMs: 20,
    });
    try {
      volume.update({ kubeconfig: 'v1', token: 't1' });
      await new Promise((r) => setTimeout(r, 150));
      expect(changes).toBe(0);
      volume.update({ kubeconfig: 'v1', token: 't2' });
      await expect.poll(() => changes, { timeout: 3000 }).toBe(1);
      expect(watcher.check()).toBe(false);
    } finally {
      watcher.close();
    }
  });

  it('finds a change by polling when no event arrives', () => {
    const volume = secretVolume({ kubeconfig: 'v1' });
    let changes = 0;
    const watcher = new CredentialWatcher({
      files: () => [join(volume.dir, 'kubeconfig')],
      onChange: () => changes++,
      onWatchError: () => undefined,
      watchDirectory: () => ({ close: () => undefined }),
    });
    try {
      volume.update({ kubeconfig: 'v2' });
      expect(watcher.check()).toBe(true);
      expect(changes).toBe(1);
    } finally {
      watcher.close();
    }
  });
});
