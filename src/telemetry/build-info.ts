import { readFileSync } from 'node:fs';

export interface BuildInfo {
  /** Herald's version, from its package.json. */
  version: string;
  /** The Node.js that runs it. */
  node: string;
}

/**
 * Herald's version as package.json states it. Read from the file next to src/ or dist/ (both sit
 * two levels below it), so a clone, the image and an npm install report the same thing.
 */
export function buildInfo(): BuildInfo {
  let version = 'unknown';
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
    if (pkg.name === 'herald' && typeof pkg.version === 'string') version = pkg.version;
  } catch {
    // A build without its package.json still runs; it just cannot say which it is.
  }
  return { version, node: process.versions.node };
}
