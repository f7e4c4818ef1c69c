export * from './types.js';
export { fetchClientStatus, decodeClientStatusResponse, encodeClientStatusRequest, describeCallError, StatusError, CSDS_FETCH_PATH, type FetchOptions } from './csds.js';
export { parseAdminClients, fetchAdminClients } from './admin.js';
export { buildRows, summarizeType, kubeClusterOf, namespaceOf, zoneOf, KUBE_CLUSTER_KEYS, NAMESPACE_KEY } from './summarize.js';
export { formatTable, formatJson, formatTypeCell, formatAge, formatSince, formatNack, formatClient, rowCells, TABLE_HEADER } from './format.js';
export { collectStatus, type StatusQuery, type StatusReport } from './collect.js';
