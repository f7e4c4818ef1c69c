import type protobuf from 'protobufjs';
import { declaredDependencies, DEPENDENCIES_METADATA, KUBE_CLUSTER_METADATA, NAMESPACE_METADATA } from '../../model/index.js';
import type { DeltaRequest, NodeInfo, XdsRequest } from './requests.js';
import { EXTENSIONS_TAG, fieldRun, readVarint, singleMessageField, withoutNestedRun } from './wire-scan.js';

/** What requestDeserialize gives for bytes that are not a DiscoveryRequest; the handler ends the stream. */
export interface UndecodableRequest {
  undecodable: string;
}

export type IncomingRequest = XdsRequest | UndecodableRequest;
export type IncomingDeltaRequest = DeltaRequest | UndecodableRequest;

/** The Node message as the client encoded it (all its fields), to show the client as it described itself. */
export interface WithNodeMessage {
  nodeBytes?: Uint8Array;
}

export function isUndecodable(request: object): request is UndecodableRequest {
  return 'undecodable' in request;
}

interface RawNode {
  id?: string;
  cluster?: string;
  locality?: { region?: string; zone?: string; sub_zone?: string } | null;
  user_agent_name?: string;
  user_agent_version?: string;
  user_agent_build_version?: { version?: { major_number?: number; minor_number?: number; patch?: number } | null } | null;
  /** google.protobuf.Struct: protobufjs names its Value's fields in camelCase whatever the load options. */
  metadata?: { fields?: Record<string, RawValue | null> } | null;
  client_features?: string[] | null;
}

/** The client feature gRPC clients announce: they take a priority only once the ones before it have no READY host. */
export const DOES_NOT_SUPPORT_OVERPROVISIONING = 'envoy.lb.does_not_support_overprovisioning';

/** A google.protobuf.Value as protobufjs decodes it: only the kinds Herald reads. */
interface RawValue {
  stringValue?: unknown;
  listValue?: { values?: (RawValue | null)[] | null } | null;
}

/** The string-valued node metadata keys Herald reads; a client's other keys are not kept with its stream. */
const HERALD_METADATA_KEYS = [NAMESPACE_METADATA, KUBE_CLUSTER_METADATA] as const;

function heraldMetadataOf(raw: RawNode): Record<string, string> | undefined {
  const fields = raw.metadata?.fields;
  if (!fields) return undefined;
  let found: Record<string, string> | undefined;
  for (const key of HERALD_METADATA_KEYS) {
    const value = Object.hasOwn(fields, key) ? stringOf(fields[key]) : undefined;
    if (value !== undefined) (found ??= {})[key] = value;
  }
  return found;
}

/** The services the client declared it calls (herald.io/dependencies), or undefined when it declared none. */
function dependenciesOf(raw: RawNode): string[] | undefined {
  const fields = raw.metadata?.fields;
  const value = fields && Object.hasOwn(fields, DEPENDENCIES_METADATA) ? fields[DEPENDENCIES_METADATA] : undefined;
  if (!value) return undefined;
  const text = stringOf(value);
  if (text !== undefined) return declaredDependencies(text);
  if (value.listValue) return declaredDependencies((value.listValue.values ?? []).map(stringOf));
  return undefined;
}

/** A Value's string, if that is the kind it holds: protobufjs reads an unset one as '' (its default), which is not a string sent. */
function stringOf(value: RawValue | null | undefined): string | undefined {
  return value && Object.hasOwn(value, 'stringValue') && typeof value.stringValue === 'string' ? value.stringValue : undefined;
}

/**
 * user_agent_build_version.version as "1.33.2" (Envoy sets it), else user_agent_version (gRPC
 * sets this string instead; the two are a oneof). The v2 build_version string is gone from the v3
 * Node, the only one Herald serves.
 */
function userAgentVersionOf(raw: RawNode): string | undefined {
  const version = raw.user_agent_build_version?.version;
  if (version) return `${version.major_number ?? 0}.${version.minor_number ?? 0}.${version.patch ?? 0}`;
  return raw.user_agent_version ? raw.user_agent_version.slice(0, MAX_VERSION_CHARS) : undefined;
}

/** A client chooses its version string; Herald keeps (and logs, and shows) no more than this of it. */
const MAX_VERSION_CHARS = 64;

function toNodeInfo(raw: RawNode): NodeInfo {
  const locality = raw.locality;
  const heraldMetadata = heraldMetadataOf(raw);
  const userAgentVersion = userAgentVersionOf(raw);
  const dependencies = dependenciesOf(raw);
  return {
    id: raw.id ?? '',
    cluster: raw.cluster ?? '',
    locality: locality ? { region: locality.region ?? '', zone: locality.zone ?? '', subZone: locality.sub_zone ?? '' } : undefined,
    userAgent: raw.user_agent_name ?? '',
    ...(userAgentVersion !== undefined ? { userAgentVersion } : {}),
    ...(heraldMetadata ? { heraldMetadata } : {}),
    ...(dependencies ? { dependencies } : {}),
    ...(raw.client_features?.includes(DOES_NOT_SUPPORT_OVERPROVISIONING) === true ? { ignoresOverprovisioning: true } : {}),
  };
}

/** The fields both request messages carry, as protobufjs decodes them. */
interface RawCommon {
  node?: RawNode | null;
  error_detail?: { code?: number; message?: string } | null;
}

interface RawRequest extends RawCommon {
  version_info?: string;
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
}

interface RawDeltaRequest extends RawCommon {
  type_url?: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
}

function errorDetailOf(raw: RawCommon): { code: number; message: string } | undefined {
  const error = raw.error_detail;
  return error ? { code: error.code ?? 0, message: error.message ?? '' } : undefined;
}

/**
 * A decoder for one request message type. Never throws: grpc-js would end the call with a
 * generic INTERNAL error, and Herald wants to count and explain the failure itself.
 */
function makeDecoder<Raw extends RawCommon, Request extends object>(root: protobuf.Root, typeName: string, convert: (raw: Raw) => Request): (bytes: Buffer) => Request | UndecodableRequest {
  const type = root.lookupType(typeName);
  const Node = root.lookupType('envoy.config.core.v3.Node');
  // node is field 2 of a DiscoveryRequest but field 1 of a DeltaDiscoveryRequest.
  const nodeTag = (type.fields.node!.id << 3) | 2;
  return (bytes) => {
    try {
      // An Envoy's Node lists ~300 extensions (tens of KB): Herald reads none of them, so they
      // are not decoded; the stream keeps them encoded (KeptNodes).
      const node = singleMessageField(bytes, nodeTag);
      const lean = node && withoutNestedRun(bytes, node, nodeTag, EXTENSIONS_TAG);
      const raw = type.decode(lean && lean.removed >= LEAN_NODE_BYTES ? lean.stripped : bytes) as unknown as Raw;
      const request: Request & WithNodeMessage = convert(raw);
      // A view of the request (the stream copies what it keeps); re-encoded when a client split the field.
      if (raw.node) request.nodeBytes = node ?? Node.encode(raw.node as protobuf.Message).finish();
      return request;
    } catch (err) {
      return { undecodable: err instanceof Error ? err.message : String(err) };
    }
  };
}

/** Below this many bytes of extensions, decoding them costs less than cutting them out. */
const LEAN_NODE_BYTES = 1024;

/** Below this many encoded bytes, decoding the names costs less than hashing them. */
const DEFAULT_LAZY_NAMES_BYTES = 256;

/**
 * Decodes DiscoveryRequests with protobufjs. An Envoy repeats every EDS name in every ACK, so a
 * long resource_names run is handed on encoded (resourceNamesRun) and its strings are only built
 * when read: a stream whose subscription did not change then compares two byte runs.
 */
export function makeRequestDecoder(root: protobuf.Root, options: { lazyNamesBytes?: number } = {}): (bytes: Buffer) => IncomingRequest {
  const lazyNamesBytes = options.lazyNamesBytes ?? DEFAULT_LAZY_NAMES_BYTES;
  const decode = makeDecoder(root, 'envoy.service.discovery.v3.DiscoveryRequest', (raw: RawRequest): XdsRequest => ({
    versionInfo: raw.version_info ?? '',
    node: raw.node ? toNodeInfo(raw.node) : undefined,
    resourceNames: raw.resource_names ?? [],
    typeUrl: raw.type_url ?? '',
    responseNonce: raw.response_nonce ?? '',
    errorDetail: errorDetailOf(raw),
  }));
  return (bytes) => {
    const span = namesSpan(bytes);
    if (span === undefined || span.end - span.start < lazyNamesBytes) return decode(bytes);
    const request = decode(Buffer.concat([bytes.subarray(0, span.start), bytes.subarray(span.end)]));
    if (isUndecodable(request)) return request;
    const run = bytes.subarray(span.start, span.end);
    let names: string[] | undefined;
    // Decoded on first read only; `run` is a view of the message, kept alive by the request alone.
    Object.defineProperty(request, 'resourceNames', { enumerable: true, get: () => (names ??= decodeNames(run)) });
    request.resourceNamesRun = run;
    return request;
  };
}

/** DiscoveryRequest.resource_names: field 3, length-delimited. */
const NAMES_TAG = (3 << 3) | 2;

/**
 * [start, end) of the resource_names fields when they form one contiguous run (as every encoder
 * writes them); undefined when absent, split, or the message is malformed, so that protobufjs
 * decodes (or rejects) the whole message as before.
 */
export function namesSpan(bytes: Buffer): { start: number; end: number } | undefined {
  return fieldRun(bytes, NAMES_TAG);
}

function decodeNames(run: Buffer): string[] {
  const names: string[] = [];
  const at = { pos: 0 };
  while (at.pos < run.length) {
    readVarint(run, at);
    const length = readVarint(run, at);
    names.push(run.toString('utf8', at.pos, at.pos + length));
    at.pos += length;
  }
  return names;
}

/** Decodes DeltaDiscoveryRequests; never throws, like makeRequestDecoder. */
export function makeDeltaRequestDecoder(root: protobuf.Root): (bytes: Buffer) => IncomingDeltaRequest {
  return makeDecoder(root, 'envoy.service.discovery.v3.DeltaDiscoveryRequest', (raw: RawDeltaRequest): DeltaRequest => ({
    node: raw.node ? toNodeInfo(raw.node) : undefined,
    typeUrl: raw.type_url ?? '',
    subscribe: raw.resource_names_subscribe ?? [],
    unsubscribe: raw.resource_names_unsubscribe ?? [],
    initialVersions: { ...(raw.initial_resource_versions ?? {}) },
    responseNonce: raw.response_nonce ?? '',
    errorDetail: errorDetailOf(raw),
  }));
}
