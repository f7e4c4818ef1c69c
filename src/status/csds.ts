import * as grpc from '@grpc/grpc-js';
import { DEFAULT_CSDS_LIMITS } from '../xds/index.js';
import type protobuf from 'protobufjs';
import { TYPE_OF_URL, type CsdsClient, type CsdsResource, type NodeSummary, type XdsType } from './types.js';

export const CSDS_FETCH_PATH = '/envoy.service.status.v3.ClientStatusDiscoveryService/FetchClientStatus';

/** Why `herald status` could not get an answer; the message names the address. */
export class StatusError extends Error {}

interface RawTimestamp {
  seconds?: number | string;
  nanos?: number;
}

// protobufjs defines google.protobuf.Value itself, in camelCase, whatever keepCase says; accept both.
interface RawStructValue {
  number_value?: number;
  numberValue?: number;
  string_value?: string;
  stringValue?: string;
  bool_value?: boolean;
  boolValue?: boolean;
  struct_value?: { fields?: Record<string, RawStructValue> };
  structValue?: { fields?: Record<string, RawStructValue> };
  list_value?: { values?: RawStructValue[] };
  listValue?: { values?: RawStructValue[] };
}

interface RawNode {
  id?: string;
  cluster?: string;
  locality?: { region?: string; zone?: string; sub_zone?: string } | null;
  user_agent_name?: string;
  user_agent_version?: string;
  user_agent_build_version?: { version?: { major_number?: number; minor_number?: number; patch?: number } | null } | null;
  metadata?: { fields?: Record<string, RawStructValue> } | null;
}

/** "1.33.2" from user_agent_build_version (Envoy), else the user_agent_version string (gRPC), else ''. */
function versionOf(node: RawNode): string {
  const version = node.user_agent_build_version?.version;
  if (version) return `${version.major_number ?? 0}.${version.minor_number ?? 0}.${version.patch ?? 0}`;
  return node.user_agent_version ?? '';
}

interface RawGeneric {
  type_url?: string;
  name?: string;
  version_info?: string;
  last_updated?: RawTimestamp | null;
  config_status?: string;
  client_status?: string;
  error_state?: { last_update_attempt?: RawTimestamp | null; details?: string; version_info?: string } | null;
}

interface RawPerXds {
  status?: string;
  listener_config?: unknown;
  cluster_config?: unknown;
  route_config?: unknown;
  endpoint_config?: unknown;
}

interface RawClientConfig {
  node?: RawNode | null;
  xds_config?: RawPerXds[];
  generic_xds_configs?: RawGeneric[];
  client_scope?: string;
}

function timestampMs(ts: RawTimestamp | null | undefined): number | undefined {
  if (!ts) return undefined;
  const seconds = Number(ts.seconds ?? 0);
  const nanos = ts.nanos ?? 0;
  if (!Number.isFinite(seconds) || (seconds === 0 && nanos === 0)) return undefined;
  return seconds * 1000 + Math.floor(nanos / 1e6);
}

function structValue(value: RawStructValue): unknown {
  const struct = value.structValue ?? value.struct_value;
  if (struct) return structObject(struct.fields);
  const list = value.listValue ?? value.list_value;
  if (list) return (list.values ?? []).map(structValue);
  return value.stringValue ?? value.string_value ?? value.numberValue ?? value.number_value ?? value.boolValue ?? value.bool_value ?? null;
}

function structObject(fields: Record<string, RawStructValue> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields ?? {})) out[key] = structValue(value);
  return out;
}

function decodeNode(node: RawNode | null | undefined): NodeSummary | undefined {
  if (!node) return undefined;
  return {
    id: node.id ?? '',
    cluster: node.cluster ?? '',
    region: node.locality?.region ?? '',
    zone: node.locality?.zone ?? '',
    subZone: node.locality?.sub_zone ?? '',
    userAgent: node.user_agent_name ?? '',
    userAgentVersion: versionOf(node),
    metadata: structObject(node.metadata?.fields),
  };
}

function decodeResource(raw: RawGeneric): CsdsResource {
  const error = raw.error_state;
  return {
    typeUrl: raw.type_url ?? '',
    name: raw.name ?? '',
    version: raw.version_info ?? '',
    configStatus: raw.config_status ?? 'UNKNOWN',
    clientStatus: raw.client_status ?? 'UNKNOWN',
    lastUpdatedMs: timestampMs(raw.last_updated),
    error: error ? { details: error.details ?? '', version: error.version_info ?? '', atMs: timestampMs(error.last_update_attempt) } : undefined,
  };
}

const PER_XDS_FIELDS: ReadonlyArray<readonly [keyof RawPerXds, XdsType]> = [
  ['cluster_config', 'CDS'],
  ['endpoint_config', 'EDS'],
  ['listener_config', 'LDS'],
  ['route_config', 'RDS'],
];

function decodePerXds(raw: RawPerXds): { type: XdsType; status: string } | undefined {
  for (const [field, type] of PER_XDS_FIELDS) if (raw[field]) return { type, status: raw.status ?? 'UNKNOWN' };
  return undefined;
}

/** Decodes a serialized envoy.service.status.v3.ClientStatusResponse. */
export function decodeClientStatusResponse(root: protobuf.Root, bytes: Uint8Array): CsdsClient[] {
  const type = root.lookupType('envoy.service.status.v3.ClientStatusResponse');
  const object = type.toObject(type.decode(bytes), { enums: String, longs: Number, defaults: false, arrays: true }) as { config?: RawClientConfig[] };
  return (object.config ?? []).map((config) => ({
    node: decodeNode(config.node),
    scope: config.client_scope ?? '',
    resources: (config.generic_xds_configs ?? []).filter((g) => TYPE_OF_URL[g.type_url ?? ''] !== undefined).map(decodeResource),
    perType: (config.xds_config ?? []).flatMap((raw) => decodePerXds(raw) ?? []),
  }));
}

/** A ClientStatusRequest; resource contents are never wanted (they can be large). */
export function encodeClientStatusRequest(root: protobuf.Root): Buffer {
  const type = root.lookupType('envoy.service.status.v3.ClientStatusRequest');
  return Buffer.from(type.encode(type.fromObject({ exclude_resource_contents: true })).finish());
}

export interface FetchOptions {
  /** host:port of Herald's xDS port. */
  address: string;
  protos: protobuf.Root;
  timeoutMs: number;
  credentials?: grpc.ChannelCredentials | undefined;
  /** Sent as `authorization: Bearer <token>`; Herald answers CSDS without it only over loopback. */
  token?: string | undefined;
}

/** Calls FetchClientStatus once, within timeoutMs; fails with a StatusError that names the address. */
export async function fetchClientStatus(options: FetchOptions): Promise<CsdsClient[]> {
  const client = new grpc.Client(options.address, options.credentials ?? grpc.credentials.createInsecure(), {
    'grpc.enable_channelz': 0,
    // A status query is one call: no reconnect attempts outlive it.
    'grpc.enable_retries': 0,
    // A large mesh's answer passes grpc's default 4 MiB; the server caps it (CSDS maxResponseBytes).
    'grpc.max_receive_message_length': DEFAULT_CSDS_LIMITS.maxResponseBytes,
  });
  const request = encodeClientStatusRequest(options.protos);
  const metadata = new grpc.Metadata();
  if (options.token !== undefined) metadata.set('authorization', `Bearer ${options.token}`);
  try {
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      client.makeUnaryRequest(
        CSDS_FETCH_PATH,
        (value: Buffer) => value,
        (value: Buffer) => value,
        request,
        metadata,
        // Not waitForReady: a refused connection fails at once instead of at the deadline.
        { deadline: Date.now() + options.timeoutMs },
        (err, value) => (err ? reject(err) : resolve(value ?? Buffer.alloc(0))),
      );
    });
    try {
      return decodeClientStatusResponse(options.protos, bytes);
    } catch (err) {
      throw new StatusError(`${options.address} answered CSDS with an undecodable ClientStatusResponse: ${err instanceof Error ? err.message : String(err)}`);
    }
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw new StatusError(describeCallError(options.address, options.timeoutMs, err as grpc.ServiceError));
  } finally {
    client.close();
  }
}

export function describeCallError(address: string, timeoutMs: number, err: { code?: number; details?: string; message?: string }): string {
  switch (err.code) {
    case grpc.status.DEADLINE_EXCEEDED:
    case grpc.status.UNAVAILABLE:
      return `cannot reach Herald's xDS port at ${address} within ${timeoutMs} ms (${err.details || err.message || 'no answer'})`;
    case grpc.status.UNAUTHENTICATED:
      return `Herald at ${address} answers CSDS only to trusted callers: pass --token-file with its admin token, or reach it through kubectl port-forward (${err.details || 'unauthenticated'})`;
    case grpc.status.PERMISSION_DENIED:
      return `Herald at ${address} refused the token of --token-file (${err.details || 'permission denied'})`;
    case grpc.status.UNIMPLEMENTED:
      return `the server at ${address} does not implement CSDS (envoy.service.status.v3.ClientStatusDiscoveryService); is it Herald's xDS port?`;
    default:
      return `CSDS call to ${address} failed: ${err.details || err.message || `gRPC status ${err.code}`}`;
  }
}
