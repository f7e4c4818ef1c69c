export { buildSidecarBootstrap, durationJson, XDS_CLUSTER_NAME, type BootstrapObject, type SidecarBootstrapOptions } from './sidecar.js';
