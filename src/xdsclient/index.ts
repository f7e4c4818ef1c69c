export { AdsClient, type AdsClientEvents, type AdsClientOptions, type AdsClientStats } from './client.js';
export { XdsCodec, backoffDelay, type AnyResource, type Assignment, type AssignmentEndpoint, type ClusterInfo, type DecodedResponse, type NodeInit, type RequestInit } from './codec.js';
export { decodeRouteTable, matchVirtualHost, type RouteTable, type VirtualHostInfo } from './routes.js';
