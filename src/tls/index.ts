export { checkTlsMaterial, readTlsBytes, TlsMaterialError, type TlsBytes, type TlsFiles, type TlsMaterial } from './material.js';
export { TlsReloader, type DirectoryWatch, type TlsReloaderOptions } from './reloader.js';
