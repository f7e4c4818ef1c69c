import { readFileSync, accessSync, statSync, constants as fsConstants } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { isIPv6 } from 'node:net';
import { KubeConfig, loadYaml } from '@kubernetes/client-node';
import type { ClusterSpec } from './clusters.js';
import { ConfigError } from './errors.js';

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

function readKubeconfigText(spec: ClusterSpec): string {
  const where = `--cluster ${spec.name}: kubeconfig ${spec.kubeconfigPath}`;
  try {
    return readFileSync(spec.kubeconfigPath, 'utf8');
  } catch (error) {
    switch (errnoCode(error)) {
      case 'ENOENT':
        throw new ConfigError(`${where}: file not found`);
      case 'EACCES':
      case 'EPERM':
        throw new ConfigError(`${where}: permission denied (cannot read the file)`);
      case 'EISDIR':
        throw new ConfigError(`${where}: is a directory, not a file`);
      default:
        throw new ConfigError(`${where}: cannot read: ${messageOf(error)}`);
    }
  }
}

function checkReadable(where: string, what: string, path: string | undefined): void {
  if (path === undefined || path === '') return;
  try {
    accessSync(path, fsConstants.R_OK);
  } catch (error) {
    const reason = errnoCode(error) === 'ENOENT' ? 'does not exist' : 'is not readable';
    throw new ConfigError(`${where}: ${what} ${path} ${reason}`);
  }
}

/** `token-file` of a kubeconfig user: client-node reads it once at load and keeps no trace of its path. */
function tokenFileOf(text: string, userName: string | undefined, baseDir: string): string | undefined {
  try {
    const raw = loadYaml(text) as { users?: { name?: string; user?: Record<string, unknown> }[] } | undefined;
    const file = raw?.users?.find((u) => u.name === userName)?.user?.['token-file'];
    return typeof file === 'string' && file !== '' ? resolve(baseDir, file) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A kubeconfig loaded from a file, which can be loaded again: a mounted Secret that is updated
 * (credential rotation) changes the file, or a file it names, under a running Herald. The kube
 * source follows these files (see sources/kube/credentials.ts) and reconnects with `reload()`.
 */
export class FileKubeConfig extends KubeConfig {
  private text = '';
  private tokenFile: string | undefined;

  constructor(readonly spec: ClusterSpec) {
    super();
  }

  /** The files this config's current context depends on: the kubeconfig itself first. */
  credentialFiles(): string[] {
    const user = this.getCurrentUser();
    const cluster = this.getCurrentCluster();
    const provider = user?.authProvider as { config?: Record<string, unknown> } | undefined;
    const named = [user?.certFile, user?.keyFile, cluster?.caFile, provider?.config?.['tokenFile'], this.tokenFile];
    return [this.spec.kubeconfigPath, ...new Set(named.filter((f): f is string => typeof f === 'string' && f !== ''))];
  }

  /** The same file(s) read again and checked as at startup; throws ConfigError when they do not load. */
  reload(): FileKubeConfig {
    return loadKubeConfig(this.spec);
  }

  // The text is only at hand here; `token-file` is looked up for the context chosen later.
  override loadFromString(config: string, opts?: Parameters<KubeConfig['loadFromString']>[1]): void {
    super.loadFromString(config, opts);
    this.text = config;
  }

  override setCurrentContext(context: string): void {
    super.setCurrentContext(context);
    this.tokenFile = tokenFileOf(this.text, this.getCurrentUser()?.name, dirname(this.spec.kubeconfigPath));
  }
}

/**
 * Loads and checks one cluster's kubeconfig without touching the network, so a typo fails at
 * startup instead of showing up later as an "unreachable" cluster.
 */
export function loadKubeConfig(spec: ClusterSpec): FileKubeConfig {
  const where = `--cluster ${spec.name}: kubeconfig ${spec.kubeconfigPath}`;
  const text = readKubeconfigText(spec);
  if (text.trim() === '') throw new ConfigError(`${where}: file is empty`);

  const kc = new FileKubeConfig(spec);
  try {
    kc.loadFromString(text);
  } catch (error) {
    const kind = error instanceof Error && error.name === 'YAMLException' ? 'is not valid YAML' : 'is not a valid kubeconfig';
    throw new ConfigError(`${where}: ${kind}: ${messageOf(error)}`);
  }
  kc.makePathsAbsolute(dirname(spec.kubeconfigPath));

  const contexts = kc.getContexts();
  if (kc.getClusters().length === 0 || contexts.length === 0) {
    throw new ConfigError(`${where}: is not a kubeconfig (it defines no clusters or no contexts)`);
  }
  const available = contexts.map((c) => c.name).join(', ');
  let contextName = spec.context;
  if (contextName !== undefined) {
    if (kc.getContextObject(contextName) === null) {
      throw new ConfigError(`${where}: unknown context '${contextName}' (available: ${available})`);
    }
    kc.setCurrentContext(contextName);
  } else {
    contextName = kc.getCurrentContext();
    if (!contextName) {
      throw new ConfigError(`${where}: no current-context set; name one with ${spec.name}=${spec.kubeconfigPath}#CONTEXT (available: ${available})`);
    }
    if (kc.getContextObject(contextName) === null) {
      throw new ConfigError(`${where}: current-context '${contextName}' is not defined (available: ${available})`);
    }
  }

  const context = kc.getContextObject(contextName)!;
  const cluster = kc.getCluster(context.cluster);
  if (cluster === null) {
    throw new ConfigError(`${where}: context '${contextName}' refers to cluster '${context.cluster}', which is not defined`);
  }
  if (context.user) {
    const user = kc.getUser(context.user);
    if (user === null) {
      throw new ConfigError(`${where}: context '${contextName}' refers to user '${context.user}', which is not defined`);
    }
    checkReadable(where, `user '${user.name}' client-certificate`, user.certFile);
    checkReadable(where, `user '${user.name}' client-key`, user.keyFile);
    const plugin: unknown = (user.exec as { command?: unknown } | undefined)?.command;
    if (typeof plugin === 'string' && plugin !== '' && findExecutable(plugin, process.env['PATH'] ?? '') === undefined) {
      // Otherwise every list fails and the cluster is retried for ever as "unreachable".
      throw new ConfigError(
        `${where}: user '${user.name}' gets its credentials from the plugin '${plugin}', which is not ${plugin.includes('/') ? 'an executable file' : 'on PATH'}; install it in Herald's image or use a token or certificate kubeconfig`,
      );
    }
  }
  checkReadable(where, `cluster '${cluster.name}' certificate-authority`, cluster.caFile);
  let server: URL;
  try {
    server = new URL(cluster.server);
  } catch {
    throw new ConfigError(`${where}: cluster '${cluster.name}' has an invalid server URL '${cluster.server}'`);
  }
  if (server.protocol === 'http:' && !cluster.skipTLSVerify) {
    // client-node refuses plain http unless this is set; say so now rather than at the first list.
    throw new ConfigError(`${where}: cluster '${cluster.name}' uses plain http (${cluster.server}); client-node requires insecure-skip-tls-verify: true for that`);
  }
  if (server.protocol !== 'http:' && server.protocol !== 'https:') {
    throw new ConfigError(`${where}: cluster '${cluster.name}' server URL '${cluster.server}' is neither http nor https`);
  }
  // Also picks the kubeconfig's `token-file`, if any, for the context in use.
  kc.setCurrentContext(contextName);
  return kc;
}

export interface InClusterOptions {
  env?: NodeJS.ProcessEnv;
  /** Prefix for the service account directory; tests point it at a temporary tree. */
  pathPrefix?: string;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The config a pod gets from its service account, or a ConfigError saying why there is none. */
export function inClusterConfig(name: string, options: InClusterOptions = {}): KubeConfig {
  const env = options.env ?? process.env;
  const prefix = options.pathPrefix ?? '';
  const where = `cluster ${name} (in-cluster)`;
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) {
    throw new ConfigError(`${where}: not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set); pass --cluster NAME=KUBECONFIG instead`);
  }
  checkReadable(where, 'service account token', `${prefix}${SERVICE_ACCOUNT_DIR}/token`);
  checkReadable(where, 'service account CA', `${prefix}${SERVICE_ACCOUNT_DIR}/ca.crt`);
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const kc = new KubeConfig();
  // The same shape client-node's loadFromCluster builds, but from the env we were given rather
  // than process.env, and always https: the service account token must never go out in clear.
  kc.loadFromOptions({
    clusters: [{ name: 'in-cluster', server, caFile: `${prefix}${SERVICE_ACCOUNT_DIR}/ca.crt`, skipTLSVerify: false }],
    users: [{ name: 'in-cluster', authProvider: { name: 'tokenFile', config: { tokenFile: `${prefix}${SERVICE_ACCOUNT_DIR}/token` } } }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster' }],
    currentContext: 'in-cluster',
  });
  return kc;
}

/** Where a command resolves as execve would find it: a path is taken as is, a bare name searched on PATH. */
export function findExecutable(command: string, searchPath: string): string | undefined {
  const candidates = command.includes('/')
    ? [command]
    : searchPath
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      if (statSync(candidate).isFile()) {
        accessSync(candidate, fsConstants.X_OK);
        return candidate;
      }
    } catch {
      // Not here; try the next one.
    }
  }
  return undefined;
}
