// The xDS services Herald serves: one gRPC method each, SotW and Delta, ADS and per-type.
import type * as grpc from '@grpc/grpc-js';
import { PUSH_ORDER, type ResourceKind } from '../../model/index.js';

export type XdsApi = 'ads' | 'cds' | 'eds' | 'lds' | 'rds' | 'delta-ads' | 'delta-cds' | 'delta-eds' | 'delta-lds' | 'delta-rds';
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
const CDS = 'envoy.service.cluster.v3.ClusterDiscoveryService';
const EDS = 'envoy.service.endpoint.v3.EndpointDiscoveryService';
const LDS = 'envoy.service.listener.v3.ListenerDiscoveryService';
const RDS = 'envoy.service.route.v3.RouteDiscoveryService';

export const API_SPECS: readonly ApiSpec[] = [
  { api: 'ads', protocol: 'sotw', service: ADS, method: 'StreamAggregatedResources', kinds: PUSH_ORDER, ads: true },
  { api: 'cds', protocol: 'sotw', service: CDS, method: 'StreamClusters', kinds: ['cluster'], ads: false },
  { api: 'eds', protocol: 'sotw', service: EDS, method: 'StreamEndpoints', kinds: ['endpoint'], ads: false },
  { api: 'lds', protocol: 'sotw', service: LDS, method: 'StreamListeners', kinds: ['listener'], ads: false },
  { api: 'rds', protocol: 'sotw', service: RDS, method: 'StreamRoutes', kinds: ['route'], ads: false },
  { api: 'delta-ads', protocol: 'delta', service: ADS, method: 'DeltaAggregatedResources', kinds: PUSH_ORDER, ads: true },
  { api: 'delta-cds', protocol: 'delta', service: CDS, method: 'DeltaClusters', kinds: ['cluster'], ads: false },
  { api: 'delta-eds', protocol: 'delta', service: EDS, method: 'DeltaEndpoints', kinds: ['endpoint'], ads: false },
  { api: 'delta-lds', protocol: 'delta', service: LDS, method: 'DeltaListeners', kinds: ['listener'], ads: false },
  { api: 'delta-rds', protocol: 'delta', service: RDS, method: 'DeltaRoutes', kinds: ['route'], ads: false },
];

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
