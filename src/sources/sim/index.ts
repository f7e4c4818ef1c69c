export { SimulatedCluster, type SimulatedClusterOptions, type SimServiceSpec, type SimTiming } from './cluster.js';
export { IpPool, parseIpv4, formatIpv4 } from './ip-pool.js';
export { StaticPolicySource } from './policy-source.js';
