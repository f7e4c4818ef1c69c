// The xDS server's public face: everything outside src/xds imports from here only.
export { XdsServer } from './server.js';
