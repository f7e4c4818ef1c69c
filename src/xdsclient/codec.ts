import type protobuf from 'protobufjs';
import { TYPE_URLS } from '../model/index.js';

/** One endpoint of a ClusterLoadAssignment, flattened with its locality. */
export interface AssignmentEndpoint {
  address: string;
  port: number;
  /** Envoy HealthStatus name: UNKNOWN, HEALTHY, UNHEALTHY, DRAINING, TIMEOUT or DEGRADED. */
  health: string;
  priority: number;
  zone: string;
  region: string;
  /** The locality's load_balancing_weight; 0 when absent (proxyless gRPC would drop it). */
  localityWeight: number;
}

export interface Assignment {
  cluster: string;
  endpoints: AssignmentEndpoint[];
}

/** What the client needs from a CDS Cluster: its name and, for EDS clusters, the EDS name to subscribe. */
export interface ClusterInfo {
  name: string;
  /** eds_cluster_config.service_name when set, else the cluster name; undefined for non-EDS clusters. */
  edsName: string | undefined;
}

export interface AnyResource {
  type_url: string;
  value: Uint8Array;
}

export interface DecodedResponse {
  version_info: string;
  type_url: string;
  nonce: string;
  resources: AnyResource[];
}

export interface NodeInit {
  id: string;
  cluster: string;
  locality: { region: string; zone: string };
  user_agent_name: string;
  client_features?: string[];
  /** google.protobuf.Struct in protobufjs's own field names (its well-known types are camelCase). */
  metadata?: { fields: Record<string, unknown> };
}

export interface RequestInit {
  type_url: string;
  version_info: string;
  response_nonce: string;
  resource_names: string[];
  node?: NodeInit;
  error_detail?: { code: number; message: string };
}

const OBJECT_OPTIONS: protobuf.IConversionOptions = { enums: String, longs: Number, defaults: true };

/**
 * Encoding and decoding of the few messages an Envoy-like ADS client touches. Decoding is
 * strict where Envoy would reject the config (wrong type URL, no socket address), so such a
 * response turns into a NACK rather than a silently wrong client state.
 */
export class XdsCodec {
  private readonly request: protobuf.Type;
  private readonly response: protobuf.Type;
  private readonly cluster: protobuf.Type;
  private readonly assignment: protobuf.Type;
  private readonly route: protobuf.Type;

  constructor(root: protobuf.Root) {
    this.request = root.lookupType('envoy.service.discovery.v3.DiscoveryRequest');
    this.response = root.lookupType('envoy.service.discovery.v3.DiscoveryResponse');
    this.cluster = root.lookupType('envoy.config.cluster.v3.Cluster');
    this.assignment = root.lookupType('envoy.config.endpoint.v3.ClusterLoadAssignment');
    this.route = root.lookupType('envoy.config.route.v3.RouteConfiguration');
  }

  encodeRequest(req: RequestInit): Buffer {
    return Buffer.from(this.request.encode(this.request.fromObject(req)).finish());
  }

  decodeRequest(bytes: Uint8Array): RequestInit {
    return this.request.toObject(this.request.decode(bytes), { defaults: true, longs: Number }) as RequestInit;
  }

  decodeResponse(bytes: Uint8Array): DecodedResponse {
    const msg = this.response.decode(bytes) as unknown as Partial<DecodedResponse>;
    return {
      version_info: msg.version_info ?? '',
      type_url: msg.type_url ?? '',
      nonce: msg.nonce ?? '',
      resources: (msg.resources ?? []).map((r) => ({ type_url: r.type_url ?? '', value: r.value ?? new Uint8Array() })),
    };
  }

  encodeResponse(res: DecodedResponse): Buffer {
    return Buffer.from(this.response.encode(this.response.fromObject(res)).finish());
  }

  /** Plain snake_case object of a resource (enums as names), for hooks and debugging. */
  toPlain(resource: AnyResource): Record<string, unknown> {
    const type = resource.type_url === TYPE_URLS.cluster ? this.cluster : resource.type_url === TYPE_URLS.route ? this.route : this.assignment;
    return type.toObject(type.decode(resource.value), { enums: String, longs: Number });
  }

  decodeCluster(resource: AnyResource): ClusterInfo {
    expectType(resource, TYPE_URLS.cluster);
    const c = this.cluster.toObject(this.cluster.decode(resource.value), OBJECT_OPTIONS) as {
      name: string;
      type?: string;
      eds_cluster_config?: { service_name?: string } | null;
    };
    if (!c.name) throw new Error('cluster without a name');
    const edsName = c.type === 'EDS' ? c.eds_cluster_config?.service_name || c.name : undefined;
    return { name: c.name, edsName };
  }

  decodeAssignment(resource: AnyResource): Assignment {
    expectType(resource, TYPE_URLS.endpoint);
    const cla = this.assignment.toObject(this.assignment.decode(resource.value), OBJECT_OPTIONS) as RawAssignment;
    if (!cla.cluster_name) throw new Error('ClusterLoadAssignment without cluster_name');
    const endpoints: AssignmentEndpoint[] = [];
    for (const group of cla.endpoints ?? []) {
      const region = group.locality?.region ?? '';
      const zone = group.locality?.zone ?? '';
      const localityWeight = group.load_balancing_weight?.value ?? 0;
      for (const lb of group.lb_endpoints ?? []) {
        const socket = lb.endpoint?.address?.socket_address;
        if (!socket?.address) throw new Error(`${cla.cluster_name}: endpoint without a socket address`);
        endpoints.push({
          address: socket.address,
          port: socket.port_value ?? 0,
          health: lb.health_status ?? 'UNKNOWN',
          priority: group.priority ?? 0,
          zone,
          region,
          localityWeight,
        });
      }
    }
    return { cluster: cla.cluster_name, endpoints };
  }
}

interface RawAssignment {
  cluster_name: string;
  endpoints?: {
    locality?: { region?: string; zone?: string } | null;
    load_balancing_weight?: { value?: number } | null;
    priority?: number;
    lb_endpoints?: {
      endpoint?: { address?: { socket_address?: { address?: string; port_value?: number } | null } | null } | null;
      health_status?: string;
    }[];
  }[];
}

function expectType(resource: AnyResource, typeUrl: string): void {
  if (resource.type_url !== typeUrl) {
    throw new Error(`resource of type ${resource.type_url || '(none)'} where ${typeUrl} was expected`);
  }
}

/** Delay before reconnect attempt `attempt` (0-based): exponential, capped, with equal jitter so it is never 0. */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}
