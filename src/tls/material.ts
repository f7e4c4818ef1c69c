import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/** Where the xDS server's TLS material lives (--tls-cert, --tls-key, --tls-ca). */
export interface TlsFiles {
  certPath: string;
  keyPath: string;
  caPath: string | undefined;
}

/** One checked set of TLS material: the key matches the certificate and every PEM parses. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
  /** notAfter of the serving certificate (the first of the chain), in Unix milliseconds. */
  certExpiresAtMs: number;
  /** notAfter of the earliest-expiring certificate of the CA bundle, in Unix milliseconds. */
  caExpiresAtMs: number | undefined;
}

/** The files' bytes as read, before any check: equal bytes mean nothing changed. */
export interface TlsBytes {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
}

/** Material that does not load, with the flag whose file is at fault. */
export class TlsMaterialError extends Error {}

function readOne(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unreadable';
    throw new TlsMaterialError(`${flag}: ${path}: cannot read the file (${code})`, { cause: error });
  }
}

export function readTlsBytes(files: TlsFiles): TlsBytes {
  return {
    cert: readOne('--tls-cert', files.certPath),
    key: readOne('--tls-key', files.keyPath),
    ca: files.caPath === undefined ? undefined : readOne('--tls-ca', files.caPath),
  };
}

export function sameTlsBytes(a: TlsBytes, b: TlsBytes): boolean {
  return a.cert.equals(b.cert) && a.key.equals(b.key) && (a.ca === undefined ? b.ca === undefined : b.ca !== undefined && a.ca.equals(b.ca));
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle; a bundle with none, or one that does not parse, throws. */
function certificates(flag: string, pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new TlsMaterialError(`${flag}: no PEM certificate in the file`);
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new TlsMaterialError(`${flag}: a certificate does not parse: ${(error as Error).message}`, { cause: error });
    }
  });
}

function notAfterMs(certificate: X509Certificate): number {
  return Date.parse(certificate.validTo);
}

/**
 * Checks bytes read from the files and returns them as usable material. A file caught half
 * written, or a certificate renewed before its key, fails here rather than in a handshake:
 * the caller keeps what it had.
 */
export function checkTlsMaterial(bytes: TlsBytes): TlsMaterial {
  const chain = certificates('--tls-cert', bytes.cert);
  let key;
  try {
    key = createPrivateKey(bytes.key);
  } catch (error) {
    throw new TlsMaterialError(`--tls-key: the private key does not parse: ${(error as Error).message}`, { cause: error });
  }
  if (!chain[0]!.checkPrivateKey(key)) throw new TlsMaterialError('--tls-key: the private key does not match the certificate of --tls-cert');
  const authorities = bytes.ca === undefined ? undefined : certificates('--tls-ca', bytes.ca);
  try {
    // What the TLS server will do with it: anything OpenSSL refuses is refused before it is published.
    createSecureContext({ cert: bytes.cert, key: bytes.key, ...(bytes.ca === undefined ? {} : { ca: bytes.ca }) });
  } catch (error) {
    throw new TlsMaterialError(`--tls-cert/--tls-key/--tls-ca: OpenSSL refuses the material: ${(error as Error).message}`, { cause: error });
  }
  return {
    cert: bytes.cert,
    key: bytes.key,
    ca: bytes.ca,
    certExpiresAtMs: notAfterMs(chain[0]!),
    caExpiresAtMs: authorities && Math.min(...authorities.map(notAfterMs)),
  };
}
