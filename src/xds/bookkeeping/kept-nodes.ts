import { EXTENSIONS_TAG, fieldRun } from '../wire/index.js';
import { unpooledCopy } from './unpooled.js';

/**
 * The Node each client sent, kept encoded for CSDS. An Envoy's Node lists every extension
 * compiled into it (hundreds of entries), and every Envoy of one build sends the same list: kept
 * decoded per stream, that list would cost several times its encoded size on every stream
 * (bench/node-memory.ts measures it). The extensions run (field 9) is therefore interned by content
 * and shared by every stream that sent it; the rest of the Node (id, cluster, metadata,
 * locality, user agent) stays with the stream as bytes, and is decoded only when CSDS asks.
 */
export interface KeptNode {
  /** The Node's fields other than the extensions run, in their original order. */
  readonly rest: Buffer;
  readonly extensions: SharedRun | undefined;
}

interface SharedRun {
  readonly bytes: Buffer;
  refs: number;
}

export class KeptNodes {
  /**
   * Runs by length, then compared byte for byte: a connect storm keeps a Node per stream, and a
   * string key per Node would be one short-lived string of the run's size per stream.
   */
  private readonly runs = new Map<number, SharedRun[]>();
  private count = 0;

  /** Copies what it keeps, so `node` may be reused afterwards. */
  keep(node: Uint8Array): KeptNode {
    const span = fieldRun(node, EXTENSIONS_TAG);
    if (span === undefined) return { rest: unpooledCopy(node), extensions: undefined };
    const run = Buffer.from(node.buffer, node.byteOffset + span.start, span.end - span.start);
    let sameLength = this.runs.get(run.length);
    if (!sameLength) this.runs.set(run.length, (sameLength = []));
    let shared = sameLength.find((candidate) => candidate.bytes.equals(run));
    if (!shared) {
      sameLength.push((shared = { bytes: unpooledCopy(run), refs: 0 }));
      this.count += 1;
    }
    shared.refs += 1;
    const rest = unpooledCopy(node.subarray(0, span.start), node.subarray(span.end));
    return { rest, extensions: shared };
  }

  /** The stream is gone; its share of the extensions run goes with it. */
  release(kept: KeptNode): void {
    const shared = kept.extensions;
    if (!shared || shared.refs <= 0) return;
    shared.refs -= 1;
    if (shared.refs > 0) return;
    const sameLength = this.runs.get(shared.bytes.length) ?? [];
    const at = sameLength.indexOf(shared);
    if (at < 0) return;
    sameLength.splice(at, 1);
    this.count -= 1;
    if (sameLength.length === 0) this.runs.delete(shared.bytes.length);
  }

  /** Distinct extensions runs held. */
  get sharedRuns(): number {
    return this.count;
  }
}

/**
 * A Node encoding equivalent to the one kept: moving one contiguous run of a repeated field to
 * the end changes no field's value, as protobuf merges fields in any order.
 */
export function nodeBytes(kept: KeptNode): Buffer {
  return kept.extensions ? Buffer.concat([kept.rest, kept.extensions.bytes]) : kept.rest;
}
