import type * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { PUSH_ORDER, type ResourceKind } from '../model/index.js';
import type { NodeInfo, XdsRequest } from './stream-state.js';

export type XdsApi = 'ads' | 'cds' | 'eds' | 'lds' | 'rds';

export interface ApiSpec {
  api: XdsApi;
  service: string;
  method: string;
  kinds: readonly ResourceKind[];
}

export const API_SPECS: readonly ApiSpec[] = [
  { api: 'ads', service: 'envoy.service.discovery.v3.AggregatedDiscoveryService', method: 'StreamAggregatedResources', kinds: PUSH_ORDER },
  { api: 'cds', service: 'envoy.service.cluster.v3.ClusterDiscoveryService', method: 'StreamClusters', kinds: ['cluster'] },
  { api: 'eds', service: 'envoy.service.endpoint.v3.EndpointDiscoveryService', method: 'StreamEndpoints', kinds: ['endpoint'] },
  { api: 'lds', service: 'envoy.service.listener.v3.ListenerDiscoveryService', method: 'StreamListeners', kinds: ['listener'] },
  { api: 'rds', service: 'envoy.service.route.v3.RouteDiscoveryService', method: 'StreamRoutes', kinds: ['route'] },
];

/** What requestDeserialize gives for bytes that are not a DiscoveryRequest; the handler ends the stream. */
export interface UndecodableRequest {
  undecodable: string;
}

export type IncomingRequest = XdsRequest | UndecodableRequest;

export function isUndecodable(request: IncomingRequest): request is UndecodableRequest {
  return 'undecodable' in request;
}

interface RawNode {
  id?: string;
  cluster?: string;
  locality?: { region?: string; zone?: string; sub_zone?: string } | null;
  user_agent_name?: string;
}

interface RawRequest {
  version_info?: string;
  node?: RawNode | null;
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
  error_detail?: { code?: number; message?: string } | null;
}

/**
 * Decodes DiscoveryRequests with protobufjs. Never throws: grpc-js would end the call with a
 * generic INTERNAL error, and Herald wants to count and explain the failure itself.
 */
export function makeRequestDecoder(root: protobuf.Root): (bytes: Buffer) => IncomingRequest {
  const type = root.lookupType('envoy.service.discovery.v3.DiscoveryRequest');
  return (bytes) => {
    try {
      const raw = type.decode(bytes) as unknown as RawRequest;
      let node: NodeInfo | undefined;
      if (raw.node) {
        const locality = raw.node.locality;
        node = {
          id: raw.node.id ?? '',
          cluster: raw.node.cluster ?? '',
          locality: locality ? { region: locality.region ?? '', zone: locality.zone ?? '', subZone: locality.sub_zone ?? '' } : undefined,
          userAgent: raw.node.user_agent_name ?? '',
        };
      }
      const error = raw.error_detail;
      return {
        versionInfo: raw.version_info ?? '',
        node,
        resourceNames: raw.resource_names ?? [],
        typeUrl: raw.type_url ?? '',
        responseNonce: raw.response_nonce ?? '',
        errorDetail: error ? { code: error.code ?? 0, message: error.message ?? '' } : undefined,
      };
    } catch (err) {
      return { undecodable: err instanceof Error ? err.message : String(err) };
    }
  };
}

const identity = (value: Buffer): Buffer => value;

/**
 * Hand-written service definition: responses are written as ready Buffers (pre-encoded
 * resources plus a nonce), so the response serializer is the identity.
 */
export function serviceDefinition(spec: ApiSpec, decode: (bytes: Buffer) => IncomingRequest): grpc.ServiceDefinition {
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
