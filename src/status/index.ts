export * from './types.js';
export { fetchClientStatus, decodeClientStatusResponse, encodeClientStatusRequest, describeCallError, StatusError, CSDS_FETCH_PATH, type FetchOptions } from './csds.js';
export { parseAdminClients, fetchAdminClients, fetchAdminJson } from './admin.js';
export { parsePolicies, formatPoliciesTable, formatPoliciesJson, type PolicyStatusReport, type PolicyServiceLine, type PolicySectionLine } from './policies.js';
export { buildRows, summarizeType, kubeClusterOf, namespaceOf, zoneOf, KUBE_CLUSTER_KEYS, NAMESPACE_KEY } from './summarize.js';
export { alignColumns, formatTable, formatJson, formatTypeCell, formatAge, formatSince, formatNack, formatClient, formatView, rowCells, TABLE_HEADER } from './format.js';
export { collectStatus, type StatusQuery, type StatusReport } from './collect.js';
