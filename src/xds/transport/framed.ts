/**
 * One gRPC-framed message as it goes to a call: whole, or as a shared head (prefix and every
 * field but the nonce, the same bytes for every stream sent the same content) and the stream's
 * own nonce field. Keeping the pair apart means no stream copies the shared response: a drain's
 * fan-out writes the same head to every stream, each followed by its 18-byte nonce field.
 */
export type Framed = Buffer | readonly [head: Buffer, tail: Buffer];

export function framedLength(framed: Framed): number {
  return Buffer.isBuffer(framed) ? framed.length : framed[0].length + framed[1].length;
}
