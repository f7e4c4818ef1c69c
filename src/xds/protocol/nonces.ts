import { randomFillSync } from 'node:crypto';
import { NONCE_CHARS } from '../wire/index.js';

/** Random bytes taken from the system at a time: one call covers hundreds of responses. */
const POOL_BYTES = 4096;
/** Base64url turns 3 bytes into 4 characters. */
const NONCE_BYTES = (NONCE_CHARS / 4) * 3;

/**
 * Mints response nonces: random, so a client can only ACK a response it has read (a client
 * that never reads cannot make Herald believe it has, and queue more). Nonces only need to
 * differ between the responses of one stream; one source may serve every stream.
 */
export class NonceSource {
  private readonly pool = Buffer.allocUnsafe(POOL_BYTES);
  private at = POOL_BYTES;

  next(): string {
    if (this.at + NONCE_BYTES > POOL_BYTES) {
      randomFillSync(this.pool);
      this.at = 0;
    }
    const nonce = this.pool.toString('base64url', this.at, this.at + NONCE_BYTES);
    this.at += NONCE_BYTES;
    return nonce;
  }
}
