// Just enough protobuf for a simulated Envoy: DiscoveryRequests are written by hand and
// DiscoveryResponses are walked in place, decoding only what the client needs (names, and the
// endpoints of the one assignment that may hold a drained address).

const LEN = 2;
const VARINT = 0;

export const CDS_TYPE = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const EDS_TYPE = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
export const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
export const DRAINING = 3;

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size += 1;
  }
  return size;
}

function putVarint(out: Buffer, offset: number, value: number): number {
  while (value >= 0x80) {
    out[offset++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[offset++] = value;
  return offset;
}

/** A length-delimited field, whole (tag, length, bytes). */
export function lenField(field: number, bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(1 + varintSize(bytes.length) + bytes.length);
  out[0] = (field << 3) | LEN;
  const offset = putVarint(out, 1, bytes.length);
  bytes.copy(out, offset);
  return out;
}

/**
 * An Envoy's Node lists every extension compiled into it, about 300 in a current build, so its
 * first request carries ~34 KB of Node. The names are made up; count and sizes are typical.
 * peer/loadgen/wire.go writes the same bytes; test/bench/loadgen-node.test.ts and
 * peer/loadgen/wire_test.go pin their digest.
 */
export const ENVOY_EXTENSIONS = 300;
const EXTENSION_CATEGORIES = ['envoy.filters.http', 'envoy.filters.network', 'envoy.filters.listener', 'envoy.transport_sockets.upstream', 'envoy.access_loggers'];

let extensionsBytes: Buffer | undefined;

/** Node.extensions (field 9) repeated: Extension{name 1, category 2, type_urls 6}; the same for every simulated Envoy. */
function extensionsField(): Buffer {
  if (extensionsBytes) return extensionsBytes;
  const out: Buffer[] = [];
  for (let i = 0; i < ENVOY_EXTENSIONS; i++) {
    const category = EXTENSION_CATEGORIES[i % EXTENSION_CATEGORIES.length]!;
    const extension = Buffer.concat([
      lenField(1, Buffer.from(`${category}.ext_${i}`)),
      lenField(2, Buffer.from(category)),
      lenField(6, Buffer.from(`type.googleapis.com/envoy.extensions.ext_${i}.v3.Config`)),
    ]);
    out.push(lenField(9, extension));
  }
  return (extensionsBytes = Buffer.concat(out));
}

/**
 * DiscoveryRequest.node (field 2): id 1, cluster 2, metadata 3, locality 4 (zone 2, when `zone` is
 * given), user_agent_name 6, extensions 9, client_features 10.
 */
export function encodeNode(id: string, cluster: string, metadata: Buffer = Buffer.alloc(0), zone?: string): Buffer {
  return lenField(
    2,
    Buffer.concat([
      lenField(1, Buffer.from(id)),
      lenField(2, Buffer.from(cluster)),
      metadata,
      zone === undefined ? Buffer.alloc(0) : lenField(4, lenField(2, Buffer.from(zone))),
      lenField(6, Buffer.from('envoy')),
      extensionsField(),
      lenField(10, Buffer.from('envoy.lb.does_not_support_overprovisioning')),
    ]),
  );
}

/**
 * Node.metadata (field 3) declaring `names` under herald.io/dependencies: a Struct whose fields
 * map (1) has one entry, key (1) and a Value (2) whose list_value (6) holds values (1), each a
 * Value with string_value (3). The Go worker's encodeDependencies writes the same bytes.
 */
export function encodeDependencies(names: readonly string[]): Buffer {
  const list = Buffer.concat(names.map((name) => lenField(1, lenField(3, Buffer.from(name)))));
  const entry = Buffer.concat([lenField(1, Buffer.from('herald.io/dependencies')), lenField(2, lenField(6, list))]);
  return lenField(3, lenField(1, entry));
}

/** Node.metadata (field 3) declaring the Envoy's kube cluster under herald.io/kube-cluster: one Struct entry whose Value has string_value (3). */
export function encodeKubeCluster(name: string): Buffer {
  const entry = Buffer.concat([lenField(1, Buffer.from('herald.io/kube-cluster')), lenField(2, lenField(3, Buffer.from(name)))]);
  return lenField(3, lenField(1, entry));
}

/** resource_names (field 3) repeated, pre-encoded once per subscription and reused by every ACK. */
export function encodeNames(names: readonly string[]): Buffer {
  return Buffer.concat(names.map((name) => lenField(3, Buffer.from(name))));
}

export const TYPE_FIELDS = { cds: lenField(4, Buffer.from(CDS_TYPE)), eds: lenField(4, Buffer.from(EDS_TYPE)) };

/** A DiscoveryRequest inside its 5-byte gRPC message header. */
export function frameRequest(parts: { version: string; node?: Buffer; names?: Buffer; type: Buffer; nonce: string }): Buffer {
  const fields: Buffer[] = [];
  if (parts.version !== '') fields.push(lenField(1, Buffer.from(parts.version)));
  if (parts.node) fields.push(parts.node);
  if (parts.names) fields.push(parts.names);
  fields.push(parts.type);
  if (parts.nonce !== '') fields.push(lenField(5, Buffer.from(parts.nonce)));
  let size = 0;
  for (const f of fields) size += f.length;
  const out = Buffer.allocUnsafe(5 + size);
  out[0] = 0;
  out.writeUInt32BE(size, 1);
  let offset = 5;
  for (const f of fields) offset += f.copy(out, offset);
  return out;
}

/** Cursor over one message's fields; `start`/`end` bound the value of the current field. */
export class FieldReader {
  pos: number;
  field = 0;
  wire = 0;
  /** Varint value, or the start of a length-delimited value. */
  value = 0;
  start = 0;
  end = 0;

  constructor(
    readonly buf: Buffer,
    begin: number,
    readonly limit: number,
  ) {
    this.pos = begin;
  }

  /** Advances to the next field; false at the end of the message. */
  next(): boolean {
    if (this.pos >= this.limit) return false;
    const key = this.varint();
    this.field = key >>> 3;
    this.wire = key & 7;
    switch (this.wire) {
      case VARINT:
        this.value = this.varint();
        break;
      case LEN: {
        const length = this.varint();
        this.start = this.pos;
        this.end = this.pos + length;
        if (this.end > this.limit) throw new Error('truncated protobuf field');
        this.pos = this.end;
        break;
      }
      case 1:
        this.pos += 8;
        break;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${this.wire}`);
    }
    return true;
  }

  text(): string {
    return this.buf.toString('utf8', this.start, this.end);
  }

  private varint(): number {
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.buf[this.pos++];
      if (byte === undefined) throw new Error('truncated varint');
      result += (byte & 0x7f) * shift;
      if (byte < 0x80) return result;
      shift *= 128;
    }
    throw new Error('varint too long');
  }
}

export interface ParsedResponse {
  version: string;
  typeUrl: string;
  nonce: string;
  /** [start, end) of each Any's `value` (the resource message) in the buffer. */
  resources: number[];
}

export function parseResponse(buf: Buffer): ParsedResponse {
  const out: ParsedResponse = { version: '', typeUrl: '', nonce: '', resources: [] };
  const r = new FieldReader(buf, 0, buf.length);
  while (r.next()) {
    if (r.wire !== LEN) continue;
    if (r.field === 1) out.version = r.text();
    else if (r.field === 4) out.typeUrl = r.text();
    else if (r.field === 5) out.nonce = r.text();
    else if (r.field === 2) {
      const any = new FieldReader(buf, r.start, r.end);
      while (any.next()) {
        if (any.field === 2 && any.wire === LEN) {
          out.resources.push(any.start, any.end);
          break;
        }
      }
    }
  }
  return out;
}

/** Field 1 (a string) of a message: Cluster.name and ClusterLoadAssignment.cluster_name alike. */
export function firstStringField(buf: Buffer, start: number, end: number): string {
  const r = new FieldReader(buf, start, end);
  while (r.next()) if (r.field === 1 && r.wire === LEN) return r.text();
  return '';
}

/** Calls `found` with the address of every DRAINING endpoint in a ClusterLoadAssignment. */
export function forEachDraining(buf: Buffer, start: number, end: number, found: (ip: string) => void): void {
  const cla = new FieldReader(buf, start, end);
  while (cla.next()) {
    if (cla.field !== 2 || cla.wire !== LEN) continue;
    const locality = new FieldReader(buf, cla.start, cla.end);
    while (locality.next()) {
      if (locality.field !== 2 || locality.wire !== LEN) continue;
      let health = 0;
      let endpoint = -1;
      let endpointEnd = -1;
      const lb = new FieldReader(buf, locality.start, locality.end);
      while (lb.next()) {
        if (lb.field === 2 && lb.wire === VARINT) health = lb.value;
        else if (lb.field === 1 && lb.wire === LEN) {
          endpoint = lb.start;
          endpointEnd = lb.end;
        }
      }
      if (health !== DRAINING || endpoint < 0) continue;
      const ip = socketAddress(buf, endpoint, endpointEnd);
      if (ip !== undefined) found(ip);
    }
  }
}

/**
 * The zones of the priority-0 localities of a ClusterLoadAssignment: its endpoints (2), each a
 * LocalityLbEndpoints whose locality (1) has zone (2) and whose priority (5) is 0 when absent.
 */
export function priorityZeroZones(buf: Buffer, start: number, end: number): string[] {
  const zones: string[] = [];
  const cla = new FieldReader(buf, start, end);
  while (cla.next()) {
    if (cla.field !== 2 || cla.wire !== LEN) continue;
    let priority = 0;
    let zone = '';
    const locality = new FieldReader(buf, cla.start, cla.end);
    while (locality.next()) {
      if (locality.field === 5 && locality.wire === VARINT) priority = locality.value;
      else if (locality.field === 1 && locality.wire === LEN) {
        const place = new FieldReader(buf, locality.start, locality.end);
        while (place.next()) if (place.field === 2 && place.wire === LEN) zone = place.text();
      }
    }
    if (priority === 0) zones.push(zone);
  }
  return zones;
}

/** Endpoint.address(1) → Address.socket_address(1) → SocketAddress.address(2). */
function socketAddress(buf: Buffer, start: number, end: number): string | undefined {
  let s = start;
  let e = end;
  for (const field of [1, 1]) {
    const r = new FieldReader(buf, s, e);
    let found = false;
    while (r.next()) {
      if (r.field === field && r.wire === LEN) {
        s = r.start;
        e = r.end;
        found = true;
        break;
      }
    }
    if (!found) return undefined;
  }
  const socket = new FieldReader(buf, s, e);
  while (socket.next()) if (socket.field === 2 && socket.wire === LEN) return socket.text();
  return undefined;
}
