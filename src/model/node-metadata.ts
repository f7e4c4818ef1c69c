/** Node metadata keys a client may send to say where it runs; the bootstrap writes them, the xDS server checks them against certificates. */
export const NAMESPACE_METADATA = 'herald.io/namespace';
export const KUBE_CLUSTER_METADATA = 'herald.io/kube-cluster';
