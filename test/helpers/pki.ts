// Throw-away certificates for TLS tests, made with the openssl command line in a temporary
// directory: CAs, a serving certificate for loopback, client certificates with a CN and an
// optional SPIFFE URI SAN.
import { execFileSync } from 'node:child_process';
import { randomInt, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tls from 'node:tls';

export interface Issued {
  cert: Buffer;
  key: Buffer;
}

export interface TestCa extends Issued {
  name: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function run(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A self-signed CA named `name`, its files kept in `dir`. */
export function makeCa(dir: string, name: string): TestCa {
  run(dir, [
    'req',
    '-x509',
    ...EC,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
  ]);
  return { name, cert: readFileSync(join(dir, `${name}.crt`)), key: readFileSync(join(dir, `${name}.key`)) };
}

export interface IssueOptions {
  /** Subject CN. */
  cn: string;
  /** A URI SAN, e.g. spiffe://td/ns/shop/sa/web. */
  uri?: string;
  /** A serving certificate for 127.0.0.1 and localhost rather than a client certificate. */
  server?: boolean;
}

/** A certificate `ca` signed, with a fresh key; `name` names its files in `dir`. */
export function issue(dir: string, ca: TestCa, name: string, options: IssueOptions): Issued {
  const sans = options.server ? ['IP:127.0.0.1', 'DNS:localhost'] : [];
  if (options.uri !== undefined) sans.push(`URI:${options.uri}`);
  const ext = [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${options.server ? 'serverAuth' : 'clientAuth'}`,
    ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : []),
  ];
  writeFileSync(join(dir, `${name}.ext`), `${ext.join('\n')}\n`);
  writeFileSync(join(dir, `${ca.name}.crt`), ca.cert);
  writeFileSync(join(dir, `${ca.name}.key`), ca.key);
  run(dir, ['req', ...EC, '-subj', `/CN=${options.cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
  run(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca.name}.crt`,
    '-CAkey',
    `${ca.name}.key`,
    '-set_serial',
    String(randomInt(1, 2 ** 47)),
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  ]);
  return { cert: readFileSync(join(dir, `${name}.crt`)), key: readFileSync(join(dir, `${name}.key`)) };
}

/** SHA-256 fingerprint of a certificate, as Node's getPeerCertificate() writes it. */
export function fingerprintOf(issued: Issued): string {
  return new X509Certificate(issued.cert).fingerprint256;
}

/** The fingerprint of the certificate a new TLS handshake with a loopback server is given. */
export function servedFingerprint(port: number, identity: Issued): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['h2'], cert: identity.cert, key: identity.key });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}
