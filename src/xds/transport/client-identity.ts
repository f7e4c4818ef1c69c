// Which nodes a client certificate may claim. Pure: the certificate's fields and the node's
// first request in, a refusal (or none) out.
import { KUBE_CLUSTER_METADATA, NAMESPACE_METADATA } from '../../model/index.js';

/** How certificate identities map onto the mesh: SPIFFE trust domain → the kube cluster it stands for. */
export interface ClientIdentityPolicy {
  /** Empty: any trust domain, and the kube cluster a node claims is not checked. */
  trustDomains: ReadonlyMap<string, string>;
}

/** The fields of a TLS peer certificate read here (Node's tls.PeerCertificate has them). */
export interface PeerCertificateFields {
  subject?: { CN?: string | string[] } | undefined;
  subjectaltname?: string | undefined;
}

/** What a certificate says its holder is. */
export type ClientIdentity = { kind: 'spiffe'; trustDomain: string; namespace: string; serviceAccount: string } | { kind: 'cn'; cn: string };

/** The parts of a node a client claims on its first request. */
export interface NodeClaim {
  id: string;
  heraldMetadata?: Readonly<Record<string, string>> | undefined;
}

export type IdentityRefusalReason = 'no_certificate' | 'no_identity' | 'spiffe_id' | 'no_node' | 'node_id' | 'namespace' | 'trust_domain' | 'kube_cluster';

export interface IdentityRefusal {
  reason: IdentityRefusalReason;
  /** For the client's status and the log; names what was claimed and what the certificate allows. */
  detail: string;
}

/**
 * Node's `subjectaltname`: `TYPE:value` entries joined by ", ", where a value holding a
 * character that could be misread (a comma, a quote) is written as a JSON string.
 */
export function subjectAltNames(text: string): Array<{ type: string; value: string }> {
  const names: Array<{ type: string; value: string }> = [];
  let at = 0;
  while (at < text.length) {
    const colon = text.indexOf(':', at);
    if (colon < 0) break;
    const type = text.slice(at, colon);
    let value: string;
    let next: number;
    if (text[colon + 1] === '"') {
      let end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(text.slice(colon + 1, end + 1)) as string;
      } catch {
        return names;
      }
      next = text.indexOf(', ', end);
    } else {
      next = text.indexOf(', ', colon);
      value = text.slice(colon + 1, next < 0 ? undefined : next);
    }
    names.push({ type, value });
    if (next < 0) break;
    at = next + 2;
  }
  return names;
}

// SPIFFE IDs: a lower-case trust domain, path segments of letters, digits, '.', '-', '_'.
const SPIFFE_ID = /^spiffe:\/\/([a-z0-9._-]+)\/ns\/([A-Za-z0-9._-]+)\/sa\/([A-Za-z0-9._-]+)$/;

/** The identity a certificate carries: its first `spiffe://` URI SAN, else its subject CN. */
export function identityOf(cert: PeerCertificateFields): ClientIdentity | IdentityRefusal {
  const spiffe = subjectAltNames(cert.subjectaltname ?? '').find((san) => san.type === 'URI' && san.value.startsWith('spiffe://'));
  if (spiffe) {
    const match = SPIFFE_ID.exec(spiffe.value);
    if (!match) return { reason: 'spiffe_id', detail: `the certificate's SPIFFE ID ${spiffe.value.slice(0, 200)} is not of the form spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/SERVICE_ACCOUNT` };
    return { kind: 'spiffe', trustDomain: match[1]!, namespace: match[2]!, serviceAccount: match[3]! };
  }
  const cn = cert.subject?.CN;
  if (typeof cn === 'string' && cn !== '') return { kind: 'cn', cn };
  return { reason: 'no_identity', detail: 'the client certificate has neither a SPIFFE URI SAN nor a single subject CN' };
}

function refusal(reason: IdentityRefusalReason, detail: string): IdentityRefusal {
  return { reason, detail };
}

function checkSpiffe(identity: Extract<ClientIdentity, { kind: 'spiffe' }>, node: NodeClaim, policy: ClientIdentityPolicy): IdentityRefusal | undefined {
  const { trustDomain, namespace } = identity;
  let kubeCluster: string | undefined;
  if (policy.trustDomains.size > 0) {
    kubeCluster = policy.trustDomains.get(trustDomain);
    if (kubeCluster === undefined) return refusal('trust_domain', `trust domain ${trustDomain} is not one of --tls-trust-domain`);
  }
  // Namespaces never contain dots, so the last one splits a node id into name and namespace.
  const dot = node.id.lastIndexOf('.');
  if (dot <= 0) return refusal('node_id', `node id '${node.id.slice(0, 200)}' is not NAME.NAMESPACE; the certificate is for namespace ${namespace}`);
  const claimed = node.id.slice(dot + 1);
  if (claimed !== namespace) return refusal('namespace', `node id '${node.id.slice(0, 200)}' claims namespace ${claimed.slice(0, 100)}; the certificate is for namespace ${namespace}`);
  const metadataNamespace = node.heraldMetadata?.[NAMESPACE_METADATA];
  if (metadataNamespace !== undefined && metadataNamespace !== namespace) {
    return refusal('namespace', `node metadata ${NAMESPACE_METADATA}=${metadataNamespace.slice(0, 100)}; the certificate is for namespace ${namespace}`);
  }
  const metadataCluster = node.heraldMetadata?.[KUBE_CLUSTER_METADATA];
  if (kubeCluster !== undefined && metadataCluster !== undefined && metadataCluster !== kubeCluster) {
    return refusal('kube_cluster', `node metadata ${KUBE_CLUSTER_METADATA}=${metadataCluster.slice(0, 100)}; trust domain ${trustDomain} is kube cluster ${kubeCluster}`);
  }
  return undefined;
}

/**
 * Whether a client holding `cert` may claim `node`; undefined when it may. SPIFFE: the node id
 * is NAME.NAMESPACE of the certificate's namespace, `herald.io/namespace` (if sent) agrees, and
 * with trust domains configured the trust domain is one of them and `herald.io/kube-cluster`
 * (if sent) is the cluster it maps to. CN: the node id is the CN.
 */
export function checkClientClaim(cert: PeerCertificateFields | undefined, node: NodeClaim | undefined, policy: ClientIdentityPolicy): IdentityRefusal | undefined {
  if (!cert) return refusal('no_certificate', 'no verified client certificate on the connection');
  const identity = identityOf(cert);
  if ('reason' in identity) return identity;
  if (!node) return refusal('no_node', "the stream's first request carries no node");
  if (identity.kind === 'spiffe') return checkSpiffe(identity, node, policy);
  if (node.id !== identity.cn) return refusal('node_id', `node id '${node.id.slice(0, 200)}' is not the certificate's CN '${identity.cn.slice(0, 200)}'`);
  return undefined;
}
