// wire: the xDS messages as bytes. Decoders turn a request's bytes into the few fields the
// protocol reads; encoders write responses from pre-encoded resources. No state, no I/O.
export { isUndecodable, makeDeltaRequestDecoder, makeRequestDecoder, type UndecodableRequest, type WithNodeMessage } from './decode.js';
export { encodeDeltaDiscoveryResponse, ResourceWrappers } from './delta-wire.js';
export { MessageSplitter } from './message-splitter.js';
export { GRPC_PREFIX_BYTES } from './proto-writer.js';
export type { DeltaRequest, NodeInfo, XdsRequest } from './requests.js';
export { encodeDiscoveryResponse, encodeSharedResponseHead, NONCE_CHARS, NONCE_FIELD_BYTES, nonceField } from './sotw-wire.js';
export { countFields, EXTENSIONS_TAG, fieldRun } from './wire-scan.js';
