import fs from 'node:fs';
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
  ];

  it.each(cases)('$title', async ({ args, message }) => {
    const result = await runHerald(args());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^herald: error: /);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });
});

describe('herald demo', () => {
  it('shows pods draining to its simulated Envoys with no Kubernetes at hand', async () => {
    const result = await runHerald(['demo', '--xds-port', '0', '--admin-port', '0', '--duration', '12', '--deploy-every', '1'], 40_000);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Herald demo: 2 simulated Kubernetes clusters/);
    const drains = result.stdout.split('\n').filter((line) => line.startsWith('DRAINING '));
    expect(drains.length).toBeGreaterThan(0);
    expect(drains.some((line) => /ACKed by 3\/3 clients in \d+ ms/.test(line))).toBe(true);
  });
});
