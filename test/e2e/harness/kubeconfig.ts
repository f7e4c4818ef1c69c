import { writeFileSync } from 'node:fs';
import type { CertFiles } from './pki.js';

/**
 * Writes a kubeconfig for one user (client certificate or bearer token). JSON is valid YAML, and every loader
 * (client-node, kubectl, Herald's config checks) accepts it.
 */
export function writeKubeconfig(path: string, opts: { cluster: string; server: string; caFile: string; user: string; cert?: CertFiles; token?: string }): string {
  const credentials = opts.token !== undefined ? { token: opts.token } : { 'client-certificate': opts.cert?.cert, 'client-key': opts.cert?.key };
  const context = `${opts.user}@${opts.cluster}`;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: opts.cluster, cluster: { server: opts.server, 'certificate-authority': opts.caFile } }],
    users: [{ name: opts.user, user: credentials }],
    contexts: [{ name: context, context: { cluster: opts.cluster, user: opts.user } }],
    'current-context': context,
  };
  writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  return path;
}
