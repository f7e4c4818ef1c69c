export {
  DEFAULT_READER,
  readerBinding,
  readerServiceAccount,
  remoteKubeconfig,
  remoteSecretManifest,
  type ReaderNames,
  type RemoteKubeconfigInput,
  type RemoteSecretInput,
} from './objects.js';
export { issueReaderToken, RemoteSecretError, type IssuedToken } from './create.js';
