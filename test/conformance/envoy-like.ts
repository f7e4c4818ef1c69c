// An xDS client that behaves the way an Envoy sidecar does on an ADS stream, written against
// raw grpc-js and protobufjs so every request it sends is visible and controllable:
// CDS wildcard first; after each accepted CDS update, ACK it and then ask EDS for exactly the
// clusters it now has; ACK or NACK (when told to) every response; keep a record of all of them.
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { loadEnvoyProtos } from '../../src/resources/protos.js';

export const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
export const CDS_URL = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const EDS_URL = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

let shared: protobuf.Root | undefined;
export function protos(): protobuf.Root {
  return (shared ??= loadEnvoyProtos());
}

/** A DiscoveryRequest as plain fields (snake_case, as in the proto). */
export interface RequestFields {
  version_info?: string;
  node?: Record<string, unknown>;
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
  error_detail?: { code: number; message: string };
}

export interface Endpoint {
  address: string;
  port: number;
  health: string;
}

export interface DecodedCluster {
  name: string;
  /** The EDS resource name: eds_cluster_config.service_name if set, else the cluster name. */
  edsName: string;
}

export interface DecodedAssignment {
  clusterName: string;
  endpoints: Endpoint[];
}

export interface RecordedResponse {
  typeUrl: string;
  version: string;
  nonce: string;
  names: string[];
  clusters: DecodedCluster[];
  assignments: DecodedAssignment[];
  /** What this client answered: 'ack', 'nack' or 'ignored' (a test deciding by hand). */
  answer: 'ack' | 'nack' | 'ignored';
}

export function encodeRequest(fields: RequestFields): Buffer {
  const type = protos().lookupType('envoy.service.discovery.v3.DiscoveryRequest');
  return Buffer.from(type.encode(type.fromObject(fields)).finish());
}

export interface RawAny {
  type_url: string;
  value: Uint8Array;
}

/** Decodes one served Any into what an Envoy would keep of it. */
export function decodeAny(any: RawAny): { cluster?: DecodedCluster; assignment?: DecodedAssignment; name: string } {
  const root = protos();
  if (any.type_url === CDS_URL) {
    const type = root.lookupType('envoy.config.cluster.v3.Cluster');
    const c = type.toObject(type.decode(any.value), { defaults: true }) as { name: string; eds_cluster_config?: { service_name?: string } };
    return { name: c.name, cluster: { name: c.name, edsName: c.eds_cluster_config?.service_name || c.name } };
  }
  if (any.type_url === EDS_URL) {
    const type = root.lookupType('envoy.config.endpoint.v3.ClusterLoadAssignment');
    const cla = type.toObject(type.decode(any.value), { defaults: true, enums: String }) as {
      cluster_name: string;
      endpoints: Array<{ lb_endpoints: Array<{ health_status: string; endpoint: { address: { socket_address: { address: string; port_value: number } } } }> }>;
    };
    const endpoints = cla.endpoints.flatMap((locality) =>
      locality.lb_endpoints.map((lb) => ({
        address: lb.endpoint.address.socket_address.address,
        port: lb.endpoint.address.socket_address.port_value,
        health: lb.health_status,
      })),
    );
    return { name: cla.cluster_name, assignment: { clusterName: cla.cluster_name, endpoints } };
  }
  return { name: `<${any.type_url}>` };
}

export function decodeResponse(bytes: Buffer): Omit<RecordedResponse, 'answer'> {
  const Response = protos().lookupType('envoy.service.discovery.v3.DiscoveryResponse');
  const raw = Response.toObject(Response.decode(bytes), { defaults: true, enums: String, longs: Number }) as {
    version_info: string;
    type_url: string;
    nonce: string;
    resources: RawAny[];
  };
  const decoded = raw.resources.map(decodeAny);
  return {
    typeUrl: raw.type_url,
    version: raw.version_info,
    nonce: raw.nonce,
    names: decoded.map((d) => d.name),
    clusters: decoded.flatMap((d) => d.cluster ?? []),
    assignments: decoded.flatMap((d) => d.assignment ?? []),
  };
}

/** Decides whether to NACK a response; a string is the NACK's error message. */
export type NackPolicy = (response: Omit<RecordedResponse, 'answer'>) => string | undefined;

export interface EnvoyLikeOptions {
  /** host:port of the xDS server. */
  address: string;
  nodeId: string;
  /** node.cluster; Envoy puts the service it fronts there. */
  service?: string;
  locality?: { region?: string; zone?: string };
  /** Say "envoy" with this build version (user_agent_build_version) instead of "envoy-like". */
  envoyVersion?: readonly [number, number, number];
  metadata?: Record<string, string>;
  nack?: NackPolicy;
  /** Version the first CDS request claims, as after a reconnect. */
  initialCdsVersion?: string;
  /** Leave everything unanswered: the test drives the stream with send(). */
  manual?: boolean;
  /** gRPC method path; ADS unless a test wants a per-type service. */
  path?: string;
}

/**
 * One Envoy on its own HTTP/2 connection (a local subchannel pool, so two of these never share
 * a connection and one's abuse cannot be masked by another's traffic).
 */
export class EnvoyLike {
  readonly responses: RecordedResponse[] = [];
  /** The config this Envoy runs: clusters by name, assignments by EDS name. */
  readonly clusters = new Map<string, DecodedCluster>();
  readonly assignments = new Map<string, DecodedAssignment>();
  readonly accepted = { cds: '', eds: '' };
  status: grpc.StatusObject | undefined;
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
  private edsNames: string[] | undefined;
  private nodeSent = false;

  constructor(private readonly options: EnvoyLikeOptions) {
    this.client = new grpc.Client(options.address, grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
      'grpc.enable_channelz': 0,
    });
    this.call = this.client.makeBidiStreamRequest(
      options.path ?? ADS_PATH,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    this.call.on('data', (bytes: Buffer) => this.onResponse(bytes));
    this.call.on('status', (status: grpc.StatusObject) => (this.status = status));
    // Errors arrive as a status too; without a listener an ended stream would throw.
    this.call.on('error', () => undefined);
    if (!options.manual) this.send({ type_url: CDS_URL, version_info: options.initialCdsVersion ?? '', resource_names: [] });
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  get node(): Record<string, unknown> {
    const metadata = Object.fromEntries(Object.entries(this.options.metadata ?? {}).map(([key, value]) => [key, { stringValue: value }]));
    return {
      id: this.options.nodeId,
      cluster: this.options.service ?? 'conformance',
      user_agent_name: this.options.envoyVersion ? 'envoy' : 'envoy-like',
      ...(this.options.envoyVersion
        ? { user_agent_build_version: { version: { major_number: this.options.envoyVersion[0], minor_number: this.options.envoyVersion[1], patch: this.options.envoyVersion[2] } } }
        : {}),
      ...(this.options.locality ? { locality: this.options.locality } : {}),
      ...(this.options.metadata ? { metadata: { fields: metadata } } : {}),
    };
  }

  /** Sends a request; the node goes on the first one only, as Envoy does. */
  send(fields: RequestFields): void {
    const withNode = this.nodeSent ? fields : { node: this.node, ...fields };
    this.nodeSent = true;
    this.call.write(encodeRequest(withNode));
  }

  writeRaw(bytes: Buffer): void {
    this.call.write(bytes);
  }

  private onResponse(bytes: Buffer): void {
    const decoded = decodeResponse(bytes);
    if (this.options.manual) {
      this.responses.push({ ...decoded, answer: 'ignored' });
      return;
    }
    const nackMessage = this.options.nack?.(decoded);
    this.responses.push({ ...decoded, answer: nackMessage === undefined ? 'ack' : 'nack' });
    const isCds = decoded.typeUrl === CDS_URL;
    const names = isCds ? [] : (this.edsNames ?? []);
    if (nackMessage !== undefined) {
      this.send({
        type_url: decoded.typeUrl,
        version_info: isCds ? this.accepted.cds : this.accepted.eds,
        response_nonce: decoded.nonce,
        resource_names: names,
        error_detail: { code: 3, message: nackMessage },
      });
      return;
    }
    if (isCds) {
      this.accepted.cds = decoded.version;
      this.clusters.clear();
      for (const c of decoded.clusters) this.clusters.set(c.name, c);
      this.send({ type_url: CDS_URL, version_info: decoded.version, response_nonce: decoded.nonce, resource_names: [] });
      // Envoy asks for the assignments of exactly the clusters it now has, after the CDS ACK.
      const wanted = [...new Set([...this.clusters.values()].map((c) => c.edsName))].sort();
      for (const name of [...this.assignments.keys()]) if (!wanted.includes(name)) this.assignments.delete(name);
      if (this.edsNames === undefined || wanted.join('\n') !== this.edsNames.join('\n')) {
        this.edsNames = wanted;
        this.send({ type_url: EDS_URL, version_info: this.accepted.eds, response_nonce: this.lastEdsNonce(), resource_names: wanted });
      }
    } else if (decoded.typeUrl === EDS_URL) {
      this.accepted.eds = decoded.version;
      for (const a of decoded.assignments) this.assignments.set(a.clusterName, a);
      this.send({ type_url: EDS_URL, version_info: decoded.version, response_nonce: decoded.nonce, resource_names: names });
    }
  }

  private lastEdsNonce(): string {
    for (let i = this.responses.length - 1; i >= 0; i--) if (this.responses[i]!.typeUrl === EDS_URL) return this.responses[i]!.nonce;
    return '';
  }

  responsesOf(typeUrl: string): RecordedResponse[] {
    return this.responses.filter((r) => r.typeUrl === typeUrl);
  }

  /** Health of `ip` in the assignment this Envoy runs for `edsName`, or undefined if absent. */
  healthOf(edsName: string, ip: string): string | undefined {
    return this.assignments.get(edsName)?.endpoints.find((e) => e.address === ip)?.health;
  }

  cancel(): void {
    this.call.cancel();
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

/** Polls `condition` every 10 ms until it holds, or fails after timeoutMs naming `what`. */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
