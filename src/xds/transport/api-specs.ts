// The xDS services Herald serves: one gRPC method each, SotW and Delta, ADS and per-type.
import type * as grpc from '@grpc/grpc-js';
import { PUSH_ORDER, RESOURCE_KINDS, type ResourceKind, type ResourceKindSpec } from '../../model/index.js';

/** ads and the kinds' short names (cds, eds…), with a delta- prefix for the incremental variants. */
export type XdsApi = `${'' | 'delta-'}${'ads' | Lowercase<ResourceKindSpec['short']>}`;
export type XdsProtocol = 'sotw' | 'delta';

export interface ApiSpec {
  api: XdsApi;
  protocol: XdsProtocol;
  service: string;
  method: string;
  kinds: readonly ResourceKind[];
  ads: boolean;
}

const ADS = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

function specsOf(protocol: XdsProtocol): ApiSpec[] {
  const prefix = protocol === 'delta' ? 'delta-' : '';
  return [
    { api: `${prefix}ads` as XdsApi, protocol, service: ADS, method: protocol === 'delta' ? 'DeltaAggregatedResources' : 'StreamAggregatedResources', kinds: PUSH_ORDER, ads: true },
    ...RESOURCE_KINDS.map((spec): ApiSpec => ({
      api: `${prefix}${spec.short.toLowerCase()}` as XdsApi,
      protocol,
      service: spec.service.name,
      method: spec.service[protocol],
      kinds: [spec.kind],
      ads: false,
    })),
  ];
}

/** Every xDS API Herald serves: ADS and one service per kind, each in SotW and Delta. */
export const API_SPECS: readonly ApiSpec[] = [...specsOf('sotw'), ...specsOf('delta')];

const identity = (value: Buffer): Buffer => value;

/**
 * Hand-written service definition: responses are written as ready Buffers (pre-encoded
 * resources plus a nonce), so the response serializer is the identity.
 */
export function serviceDefinition(spec: ApiSpec, decode: (bytes: Buffer) => object): grpc.ServiceDefinition {
  return {
    [spec.method]: {
      path: `/${spec.service}/${spec.method}`,
      requestStream: true,
      responseStream: true,
      requestSerialize: (value: Buffer) => value,
      requestDeserialize: decode,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
}
