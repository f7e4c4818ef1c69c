// One simulated Envoy: its own HTTP/2 connection and one ADS stream, CDS wildcard then EDS for
// every cluster, an ACK for every response. Raw node:http2 rather than grpc-js: a grpc-js
// channel per client costs several times the memory and CPU, and the load generator must not
// be what is measured.
import * as http2 from 'node:http2';
import { ADS_PATH, CDS_TYPE, EDS_TYPE, encodeNames, encodeNode, firstStringField, forEachDraining, frameRequest, parseResponse, priorityZeroZones, TYPE_FIELDS } from './wire.js';

export const now = (): number => performance.timeOrigin + performance.now();

/** A declared dependency set, shared by the streams that declare it. */
export interface StreamScope {
  names: string[];
  members: Set<string>;
  /** Node.metadata declaring the names (wire.ts encodeDependencies). */
  metadata: Buffer;
}

/** Where a simulated Envoy says it runs: its kube cluster (Node.metadata, wire.ts encodeKubeCluster) and its zone (node.locality.zone). */
export interface StreamPlace {
  kubeCluster?: Buffer;
  zone?: string;
}

/**
 * A drain as one stream saw it, for a stream that declared a zone: whether every priority-0
 * locality of the assignment was in its zone (and there was one), and the zone.
 */
export interface ZoneCheck {
  zone: string;
  ownZoneFirst: boolean;
}

/** What every stream of a worker shares: which drains to look for, and where to report. */
export interface StreamContext {
  /** service → addresses whose DRAINING flip is being timed. */
  watched: Map<string, Set<string>>;
  expectedClusters: number;
  onFull(stream: AdsStream): void;
  /** `leaked`: the stream does not depend on the address's service. */
  onDraining(stream: AdsStream, ip: string, receivedAt: number, ackedAt: number, leaked: boolean, zone: ZoneCheck | undefined): void;
  /** A resource the stream's declared set does not name. */
  onOutOfScope(): void;
  onGone(stream: AdsStream, reason: string): void;
}

const MAX_MESSAGE = 64 * 1024 * 1024;

export class AdsStream {
  bytes = 0;
  responses = 0;
  fullAt: number | undefined;
  gone = false;
  private session: http2.ClientHttp2Session | undefined;
  private call: http2.ClientHttp2Stream | undefined;
  private readonly node: Buffer;
  private clusters: string[] = [];
  private edsNames: Buffer | undefined;
  private edsVersion = '';
  private edsNonce = '';
  private readonly assignments = new Set<string>();
  /** Drained addresses already seen DRAINING on this stream. */
  readonly seen = new Set<string>();
  private chunks: Buffer[] = [];
  private buffered = 0;

  private readonly expected: number;

  /** `scope`: the services this Envoy declares; undefined, it takes every service. */
  constructor(
    readonly index: number,
    nodeId: string,
    private readonly ctx: StreamContext,
    readonly scope?: StreamScope,
    /** Where it says it runs; its kube cluster not with a scope. */
    private readonly place: StreamPlace = {},
  ) {
    this.node = encodeNode(nodeId, 'bench', scope?.metadata ?? place.kubeCluster, place.zone);
    this.expected = scope ? scope.names.length : ctx.expectedClusters;
  }

  private inScope(name: string): boolean {
    if (!this.scope || this.scope.members.has(name)) return true;
    this.ctx.onOutOfScope();
    return false;
  }

  connect(port: number): void {
    const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 1 << 20, enablePush: false } });
    this.session = session;
    session.on('error', (err: Error) => this.fail(`session: ${err.message}`));
    session.on('goaway', () => this.fail('goaway'));
    session.on('connect', () => session.setLocalWindowSize(4 << 20));
    const call = session.request({ ':method': 'POST', ':path': ADS_PATH, 'content-type': 'application/grpc', te: 'trailers' });
    this.call = call;
    call.on('data', (chunk: Buffer) => this.onChunk(chunk));
    call.on('error', (err: Error) => this.fail(`stream: ${err.message}`));
    call.on('close', () => this.fail('stream closed'));
    call.write(frameRequest({ version: '', node: this.node, type: TYPE_FIELDS.cds, nonce: '' }));
  }

  close(): void {
    this.gone = true;
    this.call?.close();
    this.session?.destroy();
  }

  private fail(reason: string): void {
    if (this.gone) return;
    this.gone = true;
    this.session?.destroy();
    this.ctx.onGone(this, reason);
  }

  /** Reassembles gRPC messages without re-copying the bytes already buffered. */
  private onChunk(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 5) {
      const head = this.chunks[0]!.length >= 5 ? this.chunks[0]! : Buffer.concat(this.chunks);
      if (head !== this.chunks[0]) this.chunks = [head];
      const length = head.readUInt32BE(1);
      if (length > MAX_MESSAGE) return this.fail(`message of ${length} bytes`);
      if (this.buffered < 5 + length) return;
      const all = this.chunks.length === 1 ? head : Buffer.concat(this.chunks, this.buffered);
      const message = all.subarray(5, 5 + length);
      const rest = all.subarray(5 + length);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      try {
        this.onMessage(message);
      } catch (err) {
        this.fail(`bad response: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
    }
  }

  private onMessage(message: Buffer): void {
    const receivedAt = now();
    this.responses += 1;
    const response = parseResponse(message);
    const { resources } = response;
    if (response.typeUrl === CDS_TYPE) {
      const names: string[] = [];
      for (let i = 0; i < resources.length; i += 2) names.push(firstStringField(message, resources[i]!, resources[i + 1]!));
      for (const name of names) this.inScope(name);
      names.sort();
      this.write(frameRequest({ version: response.version, type: TYPE_FIELDS.cds, nonce: response.nonce }));
      if (!sameList(names, this.clusters)) {
        this.clusters = names;
        this.edsNames = encodeNames(names);
        this.write(frameRequest({ version: this.edsVersion, names: this.edsNames, type: TYPE_FIELDS.eds, nonce: this.edsNonce }));
      }
      return;
    }
    if (response.typeUrl !== EDS_TYPE) return;
    const drained: Array<{ ip: string; leaked: boolean; zone: ZoneCheck | undefined }> = [];
    const watched = this.ctx.watched;
    for (let i = 0; i < resources.length; i += 2) {
      const name = firstStringField(message, resources[i]!, resources[i + 1]!);
      if (this.fullAt === undefined) this.assignments.add(name);
      const leaked = !this.inScope(name);
      const ips = watched.get(name);
      if (ips === undefined) continue;
      let zone: ZoneCheck | undefined;
      forEachDraining(message, resources[i]!, resources[i + 1]!, (ip) => {
        if (!ips.has(ip) || this.seen.has(ip)) return;
        zone ??= this.zoneCheck(message, resources[i]!, resources[i + 1]!);
        drained.push({ ip, leaked, zone });
      });
    }
    this.edsVersion = response.version;
    this.edsNonce = response.nonce;
    this.write(frameRequest({ version: response.version, names: this.edsNames, type: TYPE_FIELDS.eds, nonce: response.nonce }));
    const ackedAt = now();
    for (const { ip, leaked, zone } of drained) {
      this.seen.add(ip);
      this.ctx.onDraining(this, ip, receivedAt, ackedAt, leaked, zone);
    }
    if (this.fullAt === undefined && this.clusters.length >= this.expected && this.assignments.size >= this.expected) {
      this.fullAt = ackedAt;
      this.assignments.clear();
      this.ctx.onFull(this);
    }
  }

  /** Only for the assignments that carry a timed drain, so the check costs the worker next to nothing. */
  private zoneCheck(message: Buffer, start: number, end: number): ZoneCheck | undefined {
    const own = this.place.zone;
    if (own === undefined) return undefined;
    const zones = priorityZeroZones(message, start, end);
    return { zone: own, ownZoneFirst: zones.length > 0 && zones.every((z) => z === own) };
  }

  private write(bytes: Buffer): void {
    if (!this.gone) this.call?.write(bytes);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
