// TLS for the sidecar's xDS connection, with certificates Envoy re-reads when they rotate.
//
// Certificates in a bootstrap's static transport socket are read once. Envoy re-reads only
// secrets delivered over SDS, and SDS can come from files (path_config_source): so the
// bootstrap names two SDS secrets, each in a small file holding a DiscoveryResponse whose
// Secret points at the PEM files by path. A Kubernetes Secret (or CSI) volume rotates by
// swapping a `..data` symlink inside the mount directory, never by touching tls.crt itself,
// so the watches are on that directory (watched_directory), not on the file names.
import { isIP } from 'node:net';
import path from 'node:path';

export const XDS_CLIENT_CERT_SECRET = 'herald_xds_client_cert';
export const XDS_CA_SECRET = 'herald_xds_ca';

const UPSTREAM_TLS_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const SECRET_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

export interface SidecarTlsOptions {
  /** PEM bundle of the CA that signed Herald's serving certificate, as the sidecar sees it. */
  caFile: string;
  /** The sidecar's own certificate and key (mTLS); Herald run with --tls-ca requires them. */
  certFile?: string;
  keyFile?: string;
  /** Directory, as the sidecar sees it, holding the SDS files this bootstrap points at. */
  sdsDir: string;
  /** Envoy picks the parser by file extension; default json. */
  sdsFormat?: 'json' | 'yaml';
}

/** One SDS file: where it goes and the DiscoveryResponse it holds. */
export interface SdsFile {
  path: string;
  secretName: string;
  content: Record<string, unknown>;
}

function checkAbsolute(what: string, file: string | undefined): void {
  if (file === undefined) return;
  if (!path.posix.isAbsolute(file) || file.includes('\0')) throw new RangeError(`${what}: '${file}' is not an absolute path`);
}

export function checkTlsOptions(tls: SidecarTlsOptions): void {
  checkAbsolute('tls.caFile', tls.caFile);
  checkAbsolute('tls.certFile', tls.certFile);
  checkAbsolute('tls.keyFile', tls.keyFile);
  checkAbsolute('tls.sdsDir', tls.sdsDir);
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) throw new RangeError('tls.certFile and tls.keyFile go together');
  // One watched directory covers the pair; a pair split over two volumes could be read half old.
  if (tls.certFile !== undefined && path.posix.dirname(tls.certFile) !== path.posix.dirname(tls.keyFile!)) {
    throw new RangeError(`tls.keyFile: must be in the directory of tls.certFile (${path.posix.dirname(tls.certFile)}), so both rotate together`);
  }
}

function sdsPath(tls: SidecarTlsOptions, secretName: string): string {
  return path.posix.join(tls.sdsDir, `${secretName.replaceAll('_', '-')}.${tls.sdsFormat ?? 'json'}`);
}

function fromFile(tls: SidecarTlsOptions, secretName: string, pemFile: string): Record<string, unknown> {
  return {
    name: secretName,
    sds_config: {
      // Reload the SDS file whenever the PEM files' volume swaps its contents.
      path_config_source: { path: sdsPath(tls, secretName), watched_directory: { path: path.posix.dirname(pemFile) } },
      resource_api_version: 'V3',
    },
  };
}

/** The SDS files the transport socket reads; write them before Envoy starts. */
export function buildSdsFiles(tls: SidecarTlsOptions): SdsFile[] {
  checkTlsOptions(tls);
  const file = (secretName: string, secret: Record<string, unknown>): SdsFile => ({
    path: sdsPath(tls, secretName),
    secretName,
    content: { resources: [{ '@type': SECRET_TYPE, name: secretName, ...secret }] },
  });
  const files = [
    file(XDS_CA_SECRET, {
      validation_context: { trusted_ca: { filename: tls.caFile }, watched_directory: { path: path.posix.dirname(tls.caFile) } },
    }),
  ];
  if (tls.certFile !== undefined) {
    files.push(
      file(XDS_CLIENT_CERT_SECRET, {
        tls_certificate: {
          certificate_chain: { filename: tls.certFile },
          private_key: { filename: tls.keyFile },
          watched_directory: { path: path.posix.dirname(tls.certFile) },
        },
      }),
    );
  }
  return files;
}

/**
 * The xDS cluster's transport_socket: TLS to Herald, verifying that its certificate names the
 * host the sidecar dialled (Envoy checks no name unless told to), presenting the client
 * certificate when there is one.
 */
export function xdsTransportSocket(tls: SidecarTlsOptions, xdsHost: string): Record<string, unknown> {
  checkTlsOptions(tls);
  const host = xdsHost.replace(/\.$/, '');
  const ipLiteral = isIP(host) !== 0;
  const common: Record<string, unknown> = {
    // Node's HTTP/2 server (grpc-js) drops a TLS client that does not negotiate h2 by ALPN,
    // and Envoy offers no ALPN upstream unless asked.
    alpn_protocols: ['h2'],
    combined_validation_context: {
      default_validation_context: { match_typed_subject_alt_names: [{ san_type: ipLiteral ? 'IP_ADDRESS' : 'DNS', matcher: { exact: host } }] },
      validation_context_sds_secret_config: fromFile(tls, XDS_CA_SECRET, tls.caFile),
    },
  };
  if (tls.certFile !== undefined) common.tls_certificate_sds_secret_configs = [fromFile(tls, XDS_CLIENT_CERT_SECRET, tls.certFile)];
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': UPSTREAM_TLS_TYPE,
      // SNI is a host name by definition (RFC 6066); an IP literal is not sent.
      ...(ipLiteral ? {} : { sni: host }),
      common_tls_context: common,
    },
  };
}
