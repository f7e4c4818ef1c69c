// What `herald demo` and `herald serve` open to the network by default: the demo binds loopback
// and prints the addresses it really bound; serve binds every interface (Envoys, the kubelet and
// Prometheus come from outside the pod) and relies on the admin access checks instead.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const main = path.resolve('dist/main.js');

/** Ports in LISTEN state on `hexAddress` (as /proc/net/tcp writes it: 0100007F = 127.0.0.1). */
function listeningOn(hexAddress: string): Set<number> {
  const ports = new Set<number>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const [, local, , state] = line.trim().split(/\s+/);
    if (!local || state !== '0A') continue;
    const [address, port] = local.split(':');
    if (address === hexAddress) ports.add(parseInt(port!, 16));
  }
  return ports;
}

function getStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

/** Runs the demo until its banner is out, hands the banner to `check`, then stops it. */
async function withDemo(args: string[], check: (banner: string) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, [main, 'demo', '--xds-port', '0', '--admin-port', '0', '--envoys', '1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no demo banner; stderr: ${stderr}`)), 30_000);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('Rolling deploys start now')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`demo exited early; stderr: ${stderr}`)));
    });
    await check(stdout);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

describe('herald demo binds loopback', () => {
  it('listens on 127.0.0.1 only and prints those addresses', async () => {
    await withDemo([], async (banner) => {
      const xds = /^ {2}xDS {3}127\.0\.0\.1:(\d+)$/m.exec(banner);
      const admin = /^ {2}admin http:\/\/127\.0\.0\.1:(\d+)\/ui {2}\(live page[^\n]*\)$/m.exec(banner);
      expect(xds, banner).not.toBeNull();
      expect(admin, banner).not.toBeNull();
      const ports = [Number(xds![1]), Number(admin![1])];
      if (existsSync('/proc/net/tcp')) {
        const loopback = listeningOn('0100007F');
        const anywhere = listeningOn('00000000');
        for (const port of ports) {
          expect(loopback.has(port), `port ${port} on 127.0.0.1`).toBe(true);
          expect(anywhere.has(port), `port ${port} on 0.0.0.0`).toBe(false);
        }
      }
      expect(await getStatus(`http://127.0.0.1:${ports[1]}/debug/clients`)).toBe(200);
      // The page a browser would load under a rebinding attacker's name is refused.
      expect(
        await new Promise<number>((resolve, reject) => {
          http
            .get({ host: '127.0.0.1', port: ports[1], path: '/ui', headers: { host: `rebind.attacker.example:${ports[1]}` } }, (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            })
            .on('error', reject);
        }),
      ).toBe(421);
    });
  });

  it('says so when told to bind every interface', async () => {
    await withDemo(['--admin-host', '0.0.0.0'], async (banner) => {
      expect(banner).toMatch(/^ {2}xDS {3}127\.0\.0\.1:\d+$/m);
      expect(banner).toMatch(/^ {2}admin http:\/\/127\.0\.0\.1:\d+\/ui .*\(bound to 0\.0\.0\.0: reachable from other machines\)$/m);
    });
  });
});

describe('--help shows each command its default bind address', () => {
  const help = (command: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [main, command, '--help'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('exit', () => resolve(out));
      child.on('error', reject);
    });

  it.each([
    ['demo', '127.0.0.1'],
    ['serve', '0.0.0.0'],
  ])('%s binds %s', async (command, host) => {
    const text = await help(command);
    expect(text).toMatch(new RegExp(`--xds-host[^\\n]*\\[default: "${host.replace(/\./g, '\\.')}"\\]`));
    expect(text).toMatch(new RegExp(`--admin-host[^\\n]*\\[default: "${host.replace(/\./g, '\\.')}"\\]`));
  });

  it('documents the admin access flags of serve', async () => {
    const text = (await help('serve')).replace(/\s+/g, ' ');
    expect(text).toMatch(/--admin-token-file .*kubectl port-forward/);
    expect(text).toMatch(/--admin-allowed-host .*repeatable/);
  });
});
