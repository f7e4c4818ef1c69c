import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Paths of one PEM key pair. */
export interface CertFiles {
  cert: string;
  key: string;
}

export interface ClusterPki {
  caCert: string;
  caKey: string;
  serving: CertFiles;
  /** Client certificates by user name (the CN); groups are the O fields. */
  users: Map<string, CertFiles>;
  /** Service-account token signing pair (the apiserver insists on one). */
  serviceAccount: { publicKey: string; privateKey: string };
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT') throw new Error('e2e: openssl not found; the harness uses it to make test certificates', { cause: error });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`e2e: openssl ${args[0]} failed: ${stderr.trim()}`, { cause: error });
  }
}

const CLIENT_EXTENSIONS = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth'];

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function subject(cn: string, groups: string[]): string {
  return [...groups.map((g) => `/O=${g}`), `/CN=${cn}`].join('');
}

function signed(dir: string, pki: { caCert: string; caKey: string }, name: string, subj: string, extensions: string[]): CertFiles {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `${extensions.join('\n')}\n`);
  openssl(['req', ...EC_KEY, '-keyout', key, '-out', csr, '-subj', subj], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', pki.caCert, '-CAkey', pki.caKey, '-set_serial', String(randomInt(1, 2 ** 47)), '-days', '2', '-out', cert, '-extfile', ext], dir);
  return { cert, key };
}

/** A throw-away self-signed CA in `dir`, files `<name>.crt` and `<name>.key`. */
function makeCa(dir: string, name: string, cn: string): { caCert: string; caKey: string } {
  const caCert = join(dir, `${name}.crt`);
  const caKey = join(dir, `${name}.key`);
  openssl(
    [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      caKey,
      '-out',
      caCert,
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return { caCert, caKey };
}

/**
 * A throw-away CA for one test cluster, a serving certificate for 127.0.0.1, and client
 * certificates for the given users (CN = user, O = groups: how kube-apiserver maps x509 users).
 */
export function makeClusterPki(dir: string, users: Record<string, string[]>): ClusterPki {
  const ca = makeCa(dir, 'ca', 'herald-e2e-ca');
  const serving = signed(dir, ca, 'serving', '/CN=kube-apiserver', [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  const issued = new Map<string, CertFiles>();
  for (const [user, groups] of Object.entries(users)) {
    issued.set(user, signed(dir, ca, `user-${user}`, subject(user, groups), CLIENT_EXTENSIONS));
  }
  const privateKey = join(dir, 'sa.key');
  const publicKey = join(dir, 'sa.pub');
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', privateKey], dir);
  openssl(['pkey', '-in', privateKey, '-pubout', '-out', publicKey], dir);
  return { ...ca, serving, users: issued, serviceAccount: { publicKey, privateKey } };
}

/** The mesh's own PKI for xDS over mTLS: a CA, Herald's serving certificate, and issued clients. */
export interface MeshPki {
  caCert: string;
  herald: CertFiles;
  /** A client certificate with CN `cn` and, when given, a SPIFFE URI SAN. */
  client(name: string, spiffeId: string | undefined, cn?: string): CertFiles;
}

/** `prefix` names the CA, so two meshes (a real one and a rogue one) can share a directory. */
export function makeMeshPki(dir: string, prefix = 'mesh'): MeshPki {
  const ca = makeCa(dir, `${prefix}-ca`, `${prefix} xDS CA`);
  const herald = signed(dir, ca, `${prefix}-herald`, '/CN=herald', [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=DNS:herald.herald.svc.cluster.local,DNS:localhost,IP:127.0.0.1',
  ]);
  return {
    caCert: ca.caCert,
    herald,
    client: (name, spiffeId, cn = name) =>
      signed(dir, ca, `${prefix}-client-${name}`, `/CN=${cn}`, [...CLIENT_EXTENSIONS, ...(spiffeId === undefined ? [] : [`subjectAltName=URI:${spiffeId}`])]),
  };
}
