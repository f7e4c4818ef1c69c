import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { parseClusterSpec, validateClusterName, validateClusterSpecs, type ClusterSpec } from './clusters.js';
import { ConfigError } from './errors.js';
import { buildLimits } from './limits.js';
import type { XdsLimits } from '../xds/index.js';
import { isBearerToken } from '../access/index.js';
import { inClusterConfig, loadKubeConfig, type InClusterOptions } from './kubeconfig.js';
import type { ServiceScope } from '../model/index.js';
import {
  validateBoolean,
  validateDuration,
  validateHost,
  validateLabelKey,
  validateLogLevel,
  validateNamespace,
  validatePort,
  validatePortName,
  validateServiceScope,
  type LogLevel,
} from './values.js';

/** One Kubernetes cluster to watch, with its loaded (not yet contacted) client config. */
export interface ResolvedCluster {
  name: string;
  kubeConfig: KubeConfig;
  /** The --cluster flag it came from; undefined for the in-cluster config. */
  spec: ClusterSpec | undefined;
}

export interface ServeTlsConfig {
  certPath: string;
  keyPath: string;
  caPath: string | undefined;
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
  /** True when --tls-ca is given: xDS clients must present a certificate signed by it. */
  requireClientCert: boolean;
  /** --tls-trust-domain: SPIFFE trust domain → the kube cluster its clients run in; empty = any trust domain. */
  trustDomains: ReadonlyMap<string, string>;
}

/** Everything `herald serve` needs, checked. */
export interface HeraldServeConfig {
  clusters: ResolvedCluster[];
  localCluster: string | undefined;
  xdsHost: string;
  xdsPort: number;
  adminHost: string;
  adminPort: number;
  serviceLabel: string;
  /** `namespace`: a service is (namespace, label value); `mesh`: the label value alone, across namespaces. */
  serviceScope: ServiceScope;
  /** Namespaces whose pods are watched, sorted and distinct; empty = every namespace. */
  namespaces: string[];
  portName: string;
  defaultPort: number | undefined;
  /** The DNS suffix of in-cluster Service names (`cart.shop.svc.<domain>`), for sidecar egress routes. */
  clusterDomain: string;
  initialSyncTimeoutMs: number;
  includeNotReady: boolean;
  batchWindowMs: number;
  maxConnectionAgeMs: number | undefined;
  /** Let xDS streams use grpc-js internals for their reads and writes (see docs/ARCHITECTURE.md). */
  grpcFastPath: boolean;
  /** What one xDS client may make Herald hold or do. */
  limits: XdsLimits;
  logLevel: LogLevel;
  tls: ServeTlsConfig | undefined;
  /** --admin-token-file and the token it held at start; undefined = only loopback callers are trusted. */
  adminToken: { path: string; token: string } | undefined;
  /** --admin-allowed-host: Host header names accepted besides IP literals and localhost. */
  adminAllowedHosts: string[];
  /**
   * --policy-clusters: the kube clusters ServicePolicies are read from, first = wins when their
   * copies differ; default every --cluster in order. Empty in mesh service scope (a policy is
   * named after a service's namespace and label, which mesh scope does not keep apart).
   */
  policyClusters: string[];
  /** --policy-namespace: Herald's namespace, where the mesh-defaults ServicePolicy lives. */
  policyNamespace: string;
}

export const SERVE_DEFAULTS = {
  xdsHost: '0.0.0.0',
  xdsPort: 18000,
  adminHost: '0.0.0.0',
  adminPort: 18001,
  serviceLabel: 'app',
  serviceScope: 'namespace' as ServiceScope,
  policyNamespace: 'herald',
  portName: 'http',
  clusterDomain: 'cluster.local',
  initialSyncTimeoutMs: 30_000,
  includeNotReady: false,
  batchWindowMs: 10,
  grpcFastPath: true,
  logLevel: 'info' as LogLevel,
  inClusterName: 'local',
} as const;

export interface BuildServeOptions {
  /** Where in-cluster detection looks; defaults to the real process and filesystem. */
  inCluster?: InClusterOptions;
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

function stringList(flag: string, value: unknown): string[] {
  if (!present(value)) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    if (typeof item !== 'string') throw new ConfigError(`${flag}: '${String(item)}' is not a string`);
    return item;
  });
}

function readTlsFile(flag: string, path: unknown): { path: string; bytes: Buffer } {
  if (typeof path !== 'string') throw new ConfigError(`${flag}: '${String(path)}' is not a file path`);
  try {
    return { path, bytes: readFileSync(path) };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : 'cannot read the file';
    throw new ConfigError(`${flag}: ${path}: ${why}`);
  }
}

function buildTls(raw: Record<string, unknown>): ServeTlsConfig | undefined {
  const hasCert = present(raw['tlsCert']);
  const hasKey = present(raw['tlsKey']);
  const hasCa = present(raw['tlsCa']);
  if (!hasCert && !hasKey) {
    if (hasCa) throw new ConfigError('--tls-ca: needs --tls-cert and --tls-key (the server must have its own certificate to require client certificates)');
    return undefined;
  }
  if (!hasCert) throw new ConfigError('--tls-key: needs --tls-cert as well');
  if (!hasKey) throw new ConfigError('--tls-cert: needs --tls-key as well');
  const trustDomains = buildTrustDomains(raw);
  if (trustDomains.size > 0 && !hasCa) throw new ConfigError('--tls-trust-domain: needs --tls-ca (trust domains are read from client certificates)');
  const cert = readTlsFile('--tls-cert', raw['tlsCert']);
  const key = readTlsFile('--tls-key', raw['tlsKey']);
  const ca = hasCa ? readTlsFile('--tls-ca', raw['tlsCa']) : undefined;
  return {
    certPath: cert.path,
    keyPath: key.path,
    caPath: ca?.path,
    cert: cert.bytes,
    key: key.bytes,
    ca: ca?.bytes,
    requireClientCert: ca !== undefined,
    trustDomains,
  };
}

/**
 * The admin token file must hold a token when Herald starts: a typo in the path would otherwise
 * leave an operator believing the token works while every remote caller is refused.
 */
function readAdminToken(value: unknown): { path: string; token: string } {
  const { path, bytes } = readTlsFile('--admin-token-file', value);
  const token = bytes.toString('utf8').trim();
  if (token === '') throw new ConfigError(`--admin-token-file: ${path}: the file is empty`);
  if (!isBearerToken(token)) {
    throw new ConfigError(`--admin-token-file: ${path}: a bearer token is letters, digits and -._~+/ (then '=' padding), nothing else`);
  }
  return { path, token };
}

/** SPIFFE trust domains: lower-case letters, digits, '.', '-' and '_'. */
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;

function buildTrustDomains(raw: Record<string, unknown>): Map<string, string> {
  const domains = new Map<string, string>();
  for (const item of stringList('--tls-trust-domain', raw['tlsTrustDomain'])) {
    const eq = item.indexOf('=');
    const domain = eq < 0 ? item : item.slice(0, eq);
    if (eq < 0 || !TRUST_DOMAIN.test(domain)) {
      throw new ConfigError(`--tls-trust-domain: '${item}' is not TRUST_DOMAIN=KUBE_CLUSTER (a trust domain is lower-case letters, digits, '.', '-' and '_')`);
    }
    if (domains.has(domain)) throw new ConfigError(`--tls-trust-domain: trust domain '${domain}' is given twice`);
    domains.set(domain, validateClusterName('--tls-trust-domain', item.slice(eq + 1)));
  }
  return domains;
}

function buildClusters(raw: Record<string, unknown>, options: BuildServeOptions): ResolvedCluster[] {
  const specs = validateClusterSpecs(stringList('--cluster', raw['cluster']).map(parseClusterSpec));
  const clusters: ResolvedCluster[] = specs.map((spec) => ({ name: spec.name, kubeConfig: loadKubeConfig(spec), spec }));
  // Running in a pod with no --cluster means "watch the cluster I run in"; --in-cluster NAME
  // adds it alongside kubeconfig clusters.
  let inClusterName: string | undefined;
  if (present(raw['inCluster'])) {
    if (typeof raw['inCluster'] !== 'string') throw new ConfigError(`--in-cluster: '${String(raw['inCluster'])}' is not a cluster name`);
    inClusterName = validateClusterName('--in-cluster', raw['inCluster']);
  } else if (clusters.length === 0) {
    inClusterName = SERVE_DEFAULTS.inClusterName;
  }
  if (inClusterName !== undefined) {
    if (clusters.some((c) => c.name === inClusterName)) {
      throw new ConfigError(`--in-cluster: cluster name '${inClusterName}' is also given with --cluster`);
    }
    try {
      clusters.push({ name: inClusterName, kubeConfig: inClusterConfig(inClusterName, options.inCluster), spec: undefined });
    } catch (error) {
      if (error instanceof ConfigError && specs.length === 0 && !present(raw['inCluster'])) {
        throw new ConfigError(`no --cluster given and no in-cluster config: ${error.message}`);
      }
      throw error;
    }
  }
  return clusters;
}

function buildPolicyClusters(raw: Record<string, unknown>, clusters: readonly ResolvedCluster[], scope: ServiceScope): string[] {
  const names = clusters.map((c) => c.name);
  const given = stringList('--policy-clusters', raw['policyClusters']).flatMap((v) =>
    v
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
  );
  if (scope === 'mesh') {
    if (given.length > 0) throw new ConfigError('--policy-clusters: ServicePolicies need --service-scope namespace (a policy names a service by namespace and label)');
    return [];
  }
  if (given.length === 0) return names;
  for (const name of given) {
    if (!names.includes(name)) throw new ConfigError(`--policy-clusters: '${name}' is not one of the clusters (${names.join(', ')})`);
  }
  if (new Set(given).size !== given.length) throw new ConfigError(`--policy-clusters: a cluster is named twice in '${given.join(',')}'`);
  return given;
}

/**
 * Turns parsed CLI flags (yargs' camelCase keys) into a checked serve configuration. Reads the
 * kubeconfig and TLS files, never the network. Durations: strings with units ("30s") or
 * numbers of milliseconds. Throws ConfigError naming the flag on the first bad value.
 */
export function buildServeConfig(raw: Record<string, unknown>, options: BuildServeOptions = {}): HeraldServeConfig {
  const get = <T>(key: string, fallback: T, check: (value: unknown) => T): T => (present(raw[key]) ? check(raw[key]) : fallback);

  const xdsPort = get('xdsPort', SERVE_DEFAULTS.xdsPort, (v) => validatePort('--xds-port', v));
  const adminPort = get('adminPort', SERVE_DEFAULTS.adminPort, (v) => validatePort('--admin-port', v));
  const xdsHost = get('xdsHost', SERVE_DEFAULTS.xdsHost, (v) => validateHost('--xds-host', v));
  const adminHost = get('adminHost', SERVE_DEFAULTS.adminHost, (v) => validateHost('--admin-host', v));
  if (xdsPort !== 0 && xdsPort === adminPort) {
    throw new ConfigError(`--admin-port: ${adminPort} is also the --xds-port; they need different ports`);
  }
  const serviceLabel = get('serviceLabel', SERVE_DEFAULTS.serviceLabel, (v) => validateLabelKey('--service-label', v));
  const serviceScope = get('serviceScope', SERVE_DEFAULTS.serviceScope, (v) => validateServiceScope('--service-scope', v));
  const namespaces = [...new Set(stringList('--namespace', raw['namespace']).map((ns) => validateNamespace('--namespace', ns)))].sort();
  const portName = get('portName', SERVE_DEFAULTS.portName, (v) => validatePortName('--port-name', v));
  const defaultPort = get<number | undefined>('defaultPort', undefined, (v) => validatePort('--default-port', v, { allowZero: false }));
  const clusterDomain = get('clusterDomain', SERVE_DEFAULTS.clusterDomain, (v) => {
    // A fully qualified form (trailing dot) names the same suffix.
    const domain = validateHost('--cluster-domain', typeof v === 'string' ? v.replace(/\.$/, '') : v);
    if (isIP(domain) !== 0) throw new ConfigError(`--cluster-domain: '${domain}' is an IP address, not a DNS suffix`);
    return domain.toLowerCase();
  });
  const initialSyncTimeoutMs = get('initialSyncTimeout', SERVE_DEFAULTS.initialSyncTimeoutMs, (v) => validateDuration('--initial-sync-timeout', v));
  const includeNotReady = get('includeNotReady', SERVE_DEFAULTS.includeNotReady, (v) => validateBoolean('--include-not-ready', v));
  const batchWindowMs = get('batchWindow', SERVE_DEFAULTS.batchWindowMs, (v) => validateDuration('--batch-window', v));
  const maxConnectionAgeMs = get<number | undefined>('maxConnectionAge', undefined, (v) => validateDuration('--max-connection-age', v, { allowZero: false }));
  const grpcFastPath = get('grpcFastPath', SERVE_DEFAULTS.grpcFastPath, (v) => validateBoolean('--grpc-fast-path', v));
  const logLevel = get('logLevel', SERVE_DEFAULTS.logLevel, (v) => validateLogLevel('--log-level', v));
  const tls = buildTls(raw);
  const adminToken = present(raw['adminTokenFile']) ? readAdminToken(raw['adminTokenFile']) : undefined;
  const adminAllowedHosts = stringList('--admin-allowed-host', raw['adminAllowedHost']).map((name) => {
    if (isIP(name) !== 0) throw new ConfigError(`--admin-allowed-host: '${name}' is an IP address; every IP literal is accepted already`);
    return validateHost('--admin-allowed-host', name).toLowerCase();
  });

  const clusters = buildClusters(raw, options);
  const localCluster = get<string | undefined>('localCluster', undefined, (v) => {
    if (typeof v !== 'string' || !clusters.some((c) => c.name === v)) {
      throw new ConfigError(`--local-cluster: '${String(v)}' is not one of the clusters (${clusters.map((c) => c.name).join(', ')})`);
    }
    return v;
  });

  const policyNamespace = get('policyNamespace', SERVE_DEFAULTS.policyNamespace, (v) => validateNamespace('--policy-namespace', v));
  const policyClusters = buildPolicyClusters(raw, clusters, serviceScope);

  return {
    clusters,
    localCluster,
    policyClusters,
    policyNamespace,
    xdsHost,
    xdsPort,
    adminHost,
    adminPort,
    serviceLabel,
    serviceScope,
    namespaces,
    portName,
    defaultPort,
    clusterDomain,
    initialSyncTimeoutMs,
    includeNotReady,
    batchWindowMs,
    maxConnectionAgeMs,
    grpcFastPath,
    limits: buildLimits(raw),
    logLevel,
    tls,
    adminToken,
    adminAllowedHosts,
  };
}
