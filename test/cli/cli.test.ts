import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHerald } from '../helpers/run-herald.js';

// These tests run the built CLI exactly as an operator would (npm test builds first).

const kubeconfig = (context: string) => `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:1
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    token: t
contexts:
- name: ${context}
  context:
    cluster: c
    user: u
current-context: ${context}
`;

describe('herald CLI: bad input fails fast with a clear message', () => {
  let dir: string;
  let good: string;
  let malformed: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-cli-'));
    good = path.join(dir, 'good.kubeconfig');
    malformed = path.join(dir, 'malformed.kubeconfig');
    fs.writeFileSync(good, kubeconfig('main'));
    fs.writeFileSync(malformed, 'clusters: [this is: not yaml');
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cases: { title: string; args: () => string[]; message: RegExp }[] = [
    { title: 'missing kubeconfig', args: () => ['serve', '--cluster', `east=${path.join(dir, 'nope.kubeconfig')}`], message: /nope\.kubeconfig/ },
    { title: 'malformed kubeconfig', args: () => ['serve', '--cluster', `east=${malformed}`], message: /malformed\.kubeconfig/ },
    { title: 'unknown context', args: () => ['serve', '--cluster', `east=${good}#other`], message: /other/ },
    { title: 'duplicate cluster names', args: () => ['serve', '--cluster', `east=${good}`, '--cluster', `east=${good}`], message: /east/ },
    { title: 'invalid xDS port', args: () => ['serve', '--cluster', `east=${good}`, '--xds-port', '70000'], message: /--xds-port/ },
    { title: 'local cluster not among the clusters', args: () => ['serve', '--cluster', `east=${good}`, '--local-cluster', 'west'], message: /--local-cluster.*west/ },
    { title: 'bad duration', args: () => ['serve', '--cluster', `east=${good}`, '--initial-sync-timeout', 'soon'], message: /--initial-sync-timeout/ },
    { title: 'unknown flag', args: () => ['serve', '--clusterz', 'x'], message: /clusterz/ },
    { title: 'unknown command', args: () => ['serv'], message: /serv/ },
    { title: 'no cluster and not in a pod', args: () => ['serve'], message: /in-cluster|--cluster/ },
    { title: 'demo with a bad port', args: () => ['demo', '--admin-port', '-3'], message: /--admin-port/ },
    { title: 'a port that is not a number', args: () => ['serve', '--cluster', `east=${good}`, '--xds-port', 'abc'], message: /--xds-port: 'abc' is not a number/ },
    { title: 'a misspelt flag gets the closest one', args: () => ['serve', '--xds-prot', '1'], message: /--xds-prot: did you mean --xds-port\?/ },
    { title: 'a duration without a unit', args: () => ['demo', '--duration', '12'], message: /--duration: '12' needs a unit/ },
    {
      title: 'a credential plugin that is not installed',
      args: () => {
        const file = path.join(dir, 'plugin.kubeconfig');
        fs.writeFileSync(file, kubeconfig('main').replace('    token: t', '    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: herald-test-missing-auth-plugin'));
        return ['serve', '--cluster', `east=${file}`];
      },
      message: /plugin 'herald-test-missing-auth-plugin', which is not on PATH/,
    },
  ];

  it.each(cases)('$title', async ({ args, message }) => {
    const result = await runHerald(args());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^herald: error: /);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });
});

describe('herald --version and a busy port', () => {
  it('prints the version of package.json', async () => {
    const result = await runHerald(['--version']);
    const pkg = JSON.parse(fs.readFileSync(path.resolve('package.json'), 'utf8')) as { version: string };
    expect(result).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('runs from a clone with npx (the built entry point is executable)', () => {
    expect(fs.statSync(path.resolve('dist/main.js')).mode & 0o111).not.toBe(0);
  });

  it('names the flag of a port already in use, without a stack trace', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const result = await runHerald(['demo', '--admin-port', '0', '--xds-port', String(port), '--log-level', 'silent']);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`herald: error: --xds-port: 127.0.0.1:${port} is already in use; pick another port (0 picks a free one) or stop what listens there\n`);
    } finally {
      busy.close();
    }
  });
});

describe('herald demo', () => {
  it('shows pods draining to its simulated Envoys with no Kubernetes at hand', async () => {
    const result = await runHerald(['demo', '--xds-port', '0', '--admin-port', '0', '--duration', '12s', '--deploy-every', '1s'], 40_000);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Herald demo: 2 simulated Kubernetes clusters/);
    const drains = result.stdout.split('\n').filter((line) => line.startsWith('DRAINING '));
    expect(drains.length).toBeGreaterThan(0);
    expect(drains.some((line) => /ACKed by 3\/3 clients in \d+ ms/.test(line))).toBe(true);
  });
});
