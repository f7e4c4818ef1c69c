/**
 * One gRPC-framed message as it goes to a call: whole, or as a shared head (prefix and every
 * field but the nonce, the same bytes for every stream sent the same content) and the stream's
 * own nonce field. Splitting keeps a large shared response from being copied per stream.
 */
export type Framed = Buffer | readonly [head: Buffer, tail: Buffer];

export function framedLength(framed: Framed): number {
  return Buffer.isBuffer(framed) ? framed.length : framed[0].length + framed[1].length;
}

/** Below this, a head and tail are joined into one buffer: one write costs more than a small copy. */
export const JOIN_BELOW_BYTES = 16 * 1024;

/** A head and its tail as the writer should take them: one buffer when small, the pair otherwise. */
export function frame(head: Buffer, tail: Buffer): Framed {
  return head.length < JOIN_BELOW_BYTES ? Buffer.concat([head, tail], head.length + tail.length) : [head, tail];
}
