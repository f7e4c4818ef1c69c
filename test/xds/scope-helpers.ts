// Requests and a seeded cache for the scope tests of the SotW and Delta state machines.
import { ResourceCache } from '../../src/cache/index.js';
import { PUSH_ORDER, TYPE_URLS, type ResourceKind } from '../../src/model/index.js';
import type { DeltaRequest, NodeInfo, XdsRequest } from '../../src/xds/wire/requests.js';

export const put = (cache: ResourceCache, kind: ResourceKind, name: string, body: string): void => {
  cache.apply([{ kind, name, any: Buffer.from(`${kind}:${name}:${body}`) }]);
};

/** A cache holding every kind of resource for each service. */
export function seeded(...services: string[]): ResourceCache {
  const cache = new ResourceCache();
  for (const svc of services) for (const kind of PUSH_ORDER) put(cache, kind, svc, '1');
  return cache;
}

/** A Node declaring these dependencies, or none. */
export const node = (dependencies?: string[]): NodeInfo => ({ id: 'n', cluster: '', locality: undefined, userAgent: 'envoy', ...(dependencies ? { dependencies } : {}) });

export const sotwReq = (kind: ResourceKind, over: Partial<XdsRequest> = {}): XdsRequest => ({
  versionInfo: '',
  node: undefined,
  resourceNames: [],
  typeUrl: TYPE_URLS[kind],
  responseNonce: '',
  errorDetail: undefined,
  ...over,
});

export const deltaReq = (kind: ResourceKind, over: Partial<DeltaRequest> = {}): DeltaRequest => ({
  node: undefined,
  typeUrl: TYPE_URLS[kind],
  subscribe: [],
  unsubscribe: [],
  initialVersions: {},
  responseNonce: '',
  errorDetail: undefined,
  ...over,
});

/** The names of a planned response's resources. */
export const names = (r: { resources: readonly { name: string }[] } | undefined): string[] => (r ? r.resources.map((x) => x.name) : []);
