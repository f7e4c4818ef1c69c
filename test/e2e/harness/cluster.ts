import { request as httpsRequest } from 'node:https';
import { readFileSync, mkdirSync, rmSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { makeClusterPki, type ClusterPki } from './pki.js';
import { writeKubeconfig } from './kubeconfig.js';
import { eventually, fatal, freePort, tail, type Managed, type ProcessGroup } from './processes.js';

/** Client-certificate users every test cluster has. `herald` gets only what deploy/rbac grants. */
/** Starts tried when a port found free was taken before etcd or the apiserver could bind it. */
const PORT_ATTEMPTS = 3;

export const USERS: Record<string, string[]> = {
  admin: ['system:masters'],
  herald: [],
  // Bound to a deliberately incomplete role, to see how Herald reports a missing permission.
  'herald-restricted': [],
};

export interface KubeClusterOptions {
  name: string;
  /** Directory holding the kube-apiserver and etcd binaries. */
  bins: string;
  group: ProcessGroup;
  /** false: watches go straight to etcd, so an etcd compaction makes old resourceVersions 410. */
  watchCache?: boolean;
}

const START_TIMEOUT_MS = 90_000;

/** One simulated Kubernetes cluster: an etcd and a kube-apiserver on loopback, TLS, RBAC. */
export class KubeCluster {
  readonly name: string;
  readonly dir: string;
  readonly pki: ClusterPki;
  readonly etcdPort: number;
  readonly apiPort: number;
  private readonly options: KubeClusterOptions;
  private etcd: Managed | undefined;
  private apiserver: Managed | undefined;
  private readonly extra = new Set<Managed>();
  private apiStarts = 0;

  private constructor(options: KubeClusterOptions, dir: string, pki: ClusterPki, etcdPort: number, apiPort: number) {
    this.options = options;
    this.name = options.name;
    this.dir = dir;
    this.pki = pki;
    this.etcdPort = etcdPort;
    this.apiPort = apiPort;
  }

  /**
   * Starts etcd and the apiserver on ports found free a moment before. Another process can bind
   * such a port first (any outgoing connection may be given it), so a start that fails on a
   * taken port is tried again on fresh ports.
   */
  static async start(options: KubeClusterOptions): Promise<KubeCluster> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await KubeCluster.startOnce(options);
      } catch (error) {
        const taken = error instanceof Error && error.message.includes('address already in use');
        if (!taken || attempt >= PORT_ATTEMPTS) throw error;
      }
    }
  }

  private static async startOnce(options: KubeClusterOptions): Promise<KubeCluster> {
    const dir = mkdtempSync(join(tmpdir(), `herald-e2e-${options.name}-`));
    let cluster: KubeCluster;
    try {
      cluster = new KubeCluster(options, dir, makeClusterPki(dir, USERS), await freePort(), await freePort());
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    try {
      await cluster.startEtcd();
      await cluster.startApiserver();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  get server(): string {
    return `https://127.0.0.1:${this.apiPort}`;
  }

  /** Writes (once per call) a kubeconfig for one of USERS against this cluster's apiserver, or another port. */
  kubeconfigFile(user: string, port = this.apiPort): string {
    const cert = this.pki.users.get(user);
    if (!cert) throw new Error(`e2e: no client certificate for user ${user}`);
    return writeKubeconfig(join(this.dir, `kubeconfig-${user}-${port}.json`), {
      cluster: this.name,
      server: `https://127.0.0.1:${port}`,
      caFile: this.pki.caCert,
      user,
      cert,
    });
  }

  /**
   * A kubeconfig carrying a fresh token of a ServiceAccount (TokenRequest API), as a Herald
   * running in the cluster under that ServiceAccount would authenticate.
   */
  async serviceAccountKubeconfig(namespace: string, name: string): Promise<string> {
    const res = await this.core().createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
    const token = res.status?.token;
    if (!token) throw new Error(`e2e: no token for ServiceAccount ${namespace}/${name}`);
    return writeKubeconfig(join(this.dir, `kubeconfig-sa-${namespace}-${name}.json`), {
      cluster: this.name,
      server: this.server,
      caFile: this.pki.caCert,
      user: `system:serviceaccount:${namespace}:${name}`,
      token,
    });
  }

  kubeConfig(user = 'admin', port = this.apiPort): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfigFile(user, port));
    return kc;
  }

  core(user = 'admin', port = this.apiPort): CoreV1Api {
    return this.kubeConfig(user, port).makeApiClient(CoreV1Api);
  }

  apiserverRunning(): boolean {
    return this.apiserver !== undefined && !this.apiserver.hasExited();
  }

  /** (Re)starts the main apiserver on its fixed port, over the same etcd. */
  async startApiserver(): Promise<void> {
    if (this.apiserverRunning()) return;
    this.apiserver = await this.launchApiserver(this.apiPort, `apiserver-${++this.apiStarts}`);
  }

  /** Everything the current main apiserver has logged so far. */
  apiserverLog(): string {
    if (!this.apiserver) return '';
    try {
      return readFileSync(this.apiserver.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Stops the main apiserver: SIGKILL by default, like a crashed control plane. */
  async stopApiserver(how: 'kill' | 'term' = 'kill'): Promise<void> {
    const proc = this.apiserver;
    this.apiserver = undefined;
    if (!proc) return;
    if (how === 'kill') await this.options.group.kill(proc);
    else await this.options.group.stop(proc);
  }

  /**
   * A second apiserver over the same etcd, on its own port: the cluster keeps working for the
   * test (and its kubelet stand-in) while the apiserver Herald talks to is down.
   */
  async startSideApiserver(): Promise<{ port: number; core: CoreV1Api; stop: () => Promise<void> }> {
    const port = await freePort();
    const proc = await this.launchApiserver(port, `side-apiserver-${port}`);
    this.extra.add(proc);
    return {
      port,
      core: this.core('admin', port),
      stop: async () => {
        this.extra.delete(proc);
        await this.options.group.stop(proc);
      },
    };
  }

  /** Compacts etcd's whole history up to its current revision; returns that revision. */
  async compactEtcd(): Promise<number> {
    const range = (await this.etcdPost('/v3/kv/range', { key: Buffer.from('/').toString('base64'), keys_only: true, limit: 1 })) as {
      header?: { revision?: string };
    };
    const revision = Number(range.header?.revision);
    if (!Number.isFinite(revision) || revision <= 0) throw new Error(`e2e: etcd returned no revision: ${JSON.stringify(range)}`);
    await this.etcdPost('/v3/kv/compaction', { revision: String(revision), physical: true });
    return revision;
  }

  /** Stops everything of this cluster and removes its data. */
  async stop(): Promise<void> {
    const group = this.options.group;
    for (const proc of this.extra) await group.stop(proc);
    this.extra.clear();
    if (this.apiserver) await group.stop(this.apiserver);
    if (this.etcd) await group.stop(this.etcd);
    if (process.env.E2E_KEEP !== '1') rmSync(this.dir, { recursive: true, force: true });
  }

  private async startEtcd(): Promise<void> {
    const peer = await freePort();
    const client = `http://127.0.0.1:${this.etcdPort}`;
    const args = [
      '--name=default',
      `--data-dir=${join(this.dir, 'etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=default=http://127.0.0.1:${peer}`,
      // Test data is thrown away anyway; fsync would make every pod write wait on the disk.
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ];
    const proc = this.options.group.start(`${this.name}/etcd`, join(this.options.bins, 'etcd'), args, join(this.dir, 'etcd.log'));
    this.etcd = proc;
    await eventually(
      `${this.name}: etcd healthy`,
      async () => {
        if (proc.hasExited()) throw fatal(`etcd exited:\n${tail(proc.logFile)}`);
        const res = await fetch(`${client}/health`);
        const body = (await res.json()) as { health?: string };
        return body.health === 'true' ? true : undefined;
      },
      START_TIMEOUT_MS,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${tail(proc.logFile)}`);
    });
  }

  private async launchApiserver(port: number, logName: string): Promise<Managed> {
    mkdirSync(join(this.dir, 'apiserver-certs'), { recursive: true });
    const pki = this.pki;
    // The flag set follows controller-runtime's envtest, plus client-certificate authentication.
    const args = [
      `--etcd-servers=http://127.0.0.1:${this.etcdPort}`,
      `--secure-port=${port}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--cert-dir=${join(this.dir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.serving.cert}`,
      `--tls-private-key-file=${pki.serving.key}`,
      `--client-ca-file=${pki.caCert}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--disable-admission-plugins=ServiceAccount',
      `--service-account-issuer=https://127.0.0.1:${this.apiPort}`,
      `--service-account-key-file=${pki.serviceAccount.publicKey}`,
      `--service-account-signing-key-file=${pki.serviceAccount.privateKey}`,
      `--watch-cache=${this.options.watchCache ?? true}`,
      '--profiling=false',
      '--v=1',
    ];
    const proc = this.options.group.start(`${this.name}/${logName}`, join(this.options.bins, 'kube-apiserver'), args, join(this.dir, `${logName}.log`));
    await eventually(
      `${this.name}: kube-apiserver on port ${port} ready`,
      async () => {
        if (proc.hasExited()) throw fatal(`kube-apiserver exited:\n${tail(proc.logFile)}`);
        const { status } = await this.httpsGet(port, '/readyz');
        return status === 200 ? true : undefined;
      },
      START_TIMEOUT_MS,
      500,
    ).catch(async (error: Error) => {
      await this.options.group.stop(proc);
      throw new Error(`${error.message}\n${tail(proc.logFile)}`);
    });
    return proc;
  }

  /** GET as the admin user, with the cluster CA; for probes that should not depend on client-node. */
  httpsGet(port: number, path: string): Promise<{ status: number; body: string }> {
    const admin = this.pki.users.get('admin')!;
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'GET',
          ca: readFileSync(this.pki.caCert),
          cert: readFileSync(admin.cert),
          key: readFileSync(admin.key),
          timeout: 5000,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
  }

  private async etcdPost(path: string, body: unknown): Promise<unknown> {
    const res = await fetch(`http://127.0.0.1:${this.etcdPort}${path}`, { method: 'POST', body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`e2e: etcd ${path}: HTTP ${res.status}: ${text}`);
    return JSON.parse(text) as unknown;
  }
}
