export { ADMIN_CLUSTER_NAME, buildSidecarBootstrap, READINESS_PATH, durationJson, XDS_CLUSTER_NAME, type BootstrapObject, type SidecarBootstrapOptions } from './sidecar.js';
export { buildSdsFiles, XDS_CA_SECRET, XDS_CLIENT_CERT_SECRET, type SdsFile, type SidecarTlsOptions } from './tls.js';
