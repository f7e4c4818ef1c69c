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

/**
 * A throw-away CA for one test cluster, a serving certificate for 127.0.0.1, and client
 * certificates for the given users (CN = user, O = groups: how kube-apiserver maps x509 users).
 */
export function makeClusterPki(dir: string, users: Record<string, string[]>): ClusterPki {
  const caCert = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
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
      '/CN=herald-e2e-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  const ca = { caCert, caKey };
  const serving = signed(dir, ca, 'serving', '/CN=kube-apiserver', [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  const issued = new Map<string, CertFiles>();
  for (const [user, groups] of Object.entries(users)) {
    issued.set(
      user,
      signed(dir, ca, `user-${user}`, subject(user, groups), ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth']),
    );
  }
  const privateKey = join(dir, 'sa.key');
  const publicKey = join(dir, 'sa.pub');
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', privateKey], dir);
  openssl(['pkey', '-in', privateKey, '-pubout', '-out', publicKey], dir);
  return { caCert, caKey, serving, users: issued, serviceAccount: { publicKey, privateKey } };
}
