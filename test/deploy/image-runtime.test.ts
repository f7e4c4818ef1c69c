// What the image's runtime stage does, done in a temp dir: compile, install production
// dependencies only (`npm ci --omit=dev`), copy protos/, and run the entrypoint. Catches a
// runtime import of a dev dependency and files the image forgets to copy.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let app: string;

function herald(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['dist/main.js', ...args], { cwd: app, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('image runtime stage', () => {
  beforeAll(() => {
    app = mkdtempSync(path.join(tmpdir(), 'herald-image-'));
    for (const file of ['package.json', 'package-lock.json']) cpSync(path.join(root, file), path.join(app, file));
    cpSync(path.join(root, 'protos'), path.join(app, 'protos'), { recursive: true });
    execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--outDir', path.join(app, 'dist')], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 180_000,
    });
    execFileSync(npm, ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: app,
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 240_000,
    });
  }, 420_000);

  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('has production dependencies and no dev dependencies', () => {
    expect(existsSync(path.join(app, 'node_modules', '@grpc', 'grpc-js-xds', 'deps', 'envoy-api'))).toBe(true);
    // (@types/node is absent from this list: protobufjs depends on it at runtime.)
    for (const dev of ['typescript', 'vitest', '@types/yargs']) expect([dev, existsSync(path.join(app, 'node_modules', dev))]).toEqual([dev, false]);
  });

  it('runs the entrypoint: help lists the commands', () => {
    const result = herald(['--help']);
    expect(result.status).toBe(0);
    for (const command of ['serve', 'demo', 'bootstrap']) expect(result.stdout).toContain(`herald ${command}`);
    expect(herald(['serve', '--help']).stdout).toContain('--cluster');
  });

  it('prints a bootstrap with production dependencies only', () => {
    const result = herald(['bootstrap', '--service', 'cart', '--node-id', 'cart-0.shop', '--output', 'yaml']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^\s+- name: herald_xds$/m);
    expect(result.stdout).toMatch(/type: STRICT_DNS/);
  });

  it('refuses a bad serve flag in one line', () => {
    const result = herald(['serve', '--cluster', 'bad name=/nonexistent']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^herald: error: --cluster/);
  });

  it('runs the whole daemon (demo) on loopback, Envoy protos loaded from the installed package', () => {
    const args = ['demo', '--duration', '2s', '--envoys', '2', '--xds-host', '127.0.0.1', '--xds-port', '0', '--admin-host', '127.0.0.1', '--admin-port', '0'];
    const result = herald(args);
    expect(result.stderr).not.toMatch(/Error|fatal/);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Herald demo: \d+ simulated Kubernetes clusters/);
  });
});
