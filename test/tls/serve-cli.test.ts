// `herald serve` as an operator runs it, with TLS files in a Secret-volume layout: the files
// rotate under the running process, and client certificates bind node ids.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedLoopbackPort } from '../helpers/ports.js';
import { fingerprintOf, issue, makeCa, servedFingerprint, type Issued, type TestCa } from '../helpers/pki.js';
import { SecretVolume } from '../helpers/secret-volume.js';
import { TestStream, until } from '../xds/helpers.js';

const main = resolve('dist/main.js');

let dir: string;
let ca: TestCa;
let serving1: Issued;
let serving2: Issued;
let rogue: Issued;
let kubeconfig: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-tls-cli-'));
  ca = makeCa(dir, 'ca');
  serving1 = issue(dir, ca, 'serving1', { cn: 'herald', server: true });
  serving2 = issue(dir, ca, 'serving2', { cn: 'herald', server: true });
  rogue = issue(dir, ca, 'rogue', { cn: 'x', uri: 'spiffe://rogue.example/ns/shop/sa/web' });
  // A kube API nobody answers: serve starts and waits for it; TLS and identity work meanwhile.
  kubeconfig = join(dir, 'kubeconfig.json');
  const server = `https://127.0.0.1:${await closedLoopbackPort()}`;
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      clusters: [{ name: 'c', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'ctx',
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Running {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function serve(args: string[]): Running {
  const child = spawn(process.execPath, [main, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBERNETES_SERVICE_HOST: '' } });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, output: () => output, exited };
}

function startedXdsPort(output: string): number | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes('"herald started"')) continue;
    return (JSON.parse(line) as { xdsPort: number }).xdsPort;
  }
  return undefined;
}

describe('herald serve with TLS files', () => {
  it('follows a Secret volume swap and refuses a certificate that does not allow its node', async () => {
    const volume = new SecretVolume(join(dir, 'secret'), { 'tls.crt': serving1.cert, 'tls.key': serving1.key, 'ca.crt': ca.cert });
    const herald = serve([
      ...['--cluster', `east=${kubeconfig}`, '--xds-host', '127.0.0.1', '--xds-port', '0', '--admin-host', '127.0.0.1', '--admin-port', '0'],
      ...['--tls-cert', volume.path('tls.crt'), '--tls-key', volume.path('tls.key'), '--tls-ca', volume.path('ca.crt'), '--tls-trust-domain', 'east.example=east'],
    ]);
    try {
      await until(() => startedXdsPort(herald.output()) !== undefined, 20_000, 'herald to start');
      const port = startedXdsPort(herald.output())!;
      expect(await servedFingerprint(port, rogue)).toBe(fingerprintOf(serving1));

      const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createSsl(ca.cert, rogue.key, rogue.cert), { 'grpc.ssl_target_name_override': 'localhost' });
      const refused = new TestStream(client);
      refused.request('cluster', { node: { id: 'web-1.shop' } });
      await until(() => refused.status !== undefined, 10_000, 'the stream to be refused');
      expect(refused.status?.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(refused.status?.details).toMatch(/trust domain rogue\.example/);
      client.close();

      volume.swap({ 'tls.crt': serving2.cert, 'tls.key': serving2.key, 'ca.crt': ca.cert });
      const deadline = Date.now() + 10_000;
      while ((await servedFingerprint(port, rogue)) !== fingerprintOf(serving2)) {
        if (Date.now() > deadline) throw new Error('new handshakes did not get the rotated certificate');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(herald.output()).toContain('TLS material reloaded');
      expect(herald.output()).toContain('xDS stream refused: the client certificate does not allow the node it claims');
    } finally {
      herald.child.kill('SIGTERM');
      await herald.exited;
    }
  });

  it('refuses to start on a key that does not match its certificate', async () => {
    const volume = new SecretVolume(join(dir, 'mismatched'), { 'tls.crt': serving1.cert, 'tls.key': serving2.key });
    const herald = serve(['--cluster', `east=${kubeconfig}`, '--xds-port', '0', '--admin-port', '0', '--tls-cert', volume.path('tls.crt'), '--tls-key', volume.path('tls.key')]);
    expect(await herald.exited).toBe(2);
    expect(herald.output()).toMatch(/herald: error: --tls-key: the private key does not match the certificate of --tls-cert/);
  });
});
