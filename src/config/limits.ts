// The xDS limits as flags: one table says each limit's flag, what kind of value it takes and
// what it bounds; the yargs options, the checks and the help text all come from it.
import { DEFAULT_XDS_LIMITS, LIMIT_FLAGS, type XdsLimits } from '../xds/index.js';
import { ConfigError } from './errors.js';
import { validateDuration } from './values.js';

type ValueKind = 'count' | 'bytes' | 'duration';

const KIND_OF: Readonly<Record<keyof XdsLimits, ValueKind>> = {
  maxNamesPerStream: 'count',
  maxNamesPerPeer: 'count',
  maxNodeBytes: 'bytes',
  maxRequestBytes: 'bytes',
  maxStreamsPerConnection: 'count',
  maxConnections: 'count',
  maxConnectionsPerPeer: 'count',
  maxSessionMemoryMib: 'count',
  maxUnsentBytesPerStream: 'bytes',
  writeStallTimeoutMs: 'duration',
  handshakeTimeoutMs: 'duration',
  idleConnectionTimeoutMs: 'duration',
  requestReadTimeoutMs: 'duration',
};

const HELP: Readonly<Record<keyof XdsLimits, string>> = {
  maxNamesPerStream: 'resource names one xDS stream may subscribe to (all its types together)',
  maxNamesPerPeer: 'resource names the xDS streams of one peer address may subscribe to together',
  maxNodeBytes: 'largest Node an xDS client may send (bytes, or with a unit: 64KiB)',
  maxRequestBytes: 'largest xDS request message (bytes, or 1MiB)',
  maxStreamsPerConnection: 'HTTP/2 streams open at once on one xDS connection',
  maxConnections: 'open xDS connections in all; more are refused at accept',
  maxConnectionsPerPeer: 'open xDS connections from one peer address',
  maxSessionMemoryMib: "nghttp2's memory per xDS connection, in MiB",
  maxUnsentBytesPerStream: 'response bytes waiting for one client to read them before its stream is ended (bytes, or 32MiB)',
  writeStallTimeoutMs: 'end a stream whose writes have not reached its client for this long (a client that stopped reading)',
  handshakeTimeoutMs: 'close an xDS connection that has opened no stream this long after accept',
  idleConnectionTimeoutMs: 'close an xDS connection that has had no open stream this long',
  requestReadTimeoutMs: 'end a stream whose request message is begun but not finished within this',
};

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, kb: 1000, mb: 1000 ** 2, gb: 1000 ** 3 };

/** A byte size: a whole number, or one with a unit (64KiB, 1MiB, 2MB). */
export function validateBytes(flag: string, value: unknown): number {
  const match = typeof value === 'number' ? [String(value), String(value), ''] : typeof value === 'string' ? /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(value) : null;
  const unit = match ? BYTE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new ConfigError(`${flag}: '${String(value)}' is not a size (e.g. 65536, 64KiB, 1MiB)`);
  const bytes = Number(match[1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new ConfigError(`${flag}: must be at least 1 byte`);
  return bytes;
}

function validateCount(flag: string, value: unknown): number {
  const count = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) throw new ConfigError(`${flag}: '${String(value)}' is not a whole number of at least 1`);
  return count;
}

const defaultText = (key: keyof XdsLimits): string => {
  const value = DEFAULT_XDS_LIMITS[key];
  switch (KIND_OF[key]) {
    case 'duration':
      return value % 60_000 === 0 ? `${value / 60_000}m` : `${value / 1000}s`;
    case 'bytes':
      return value % 1024 ** 2 === 0 ? `${value / 1024 ** 2}MiB` : value % 1024 === 0 ? `${value / 1024}KiB` : String(value);
    default:
      return String(value);
  }
};

/** yargs' camelCase key for a flag: --max-node-bytes → maxNodeBytes. */
const argKey = (flag: string): string => flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** One yargs option per limit; the default shows in the help and is applied by buildLimits. */
export function limitOptions(): { name: string; describe: string }[] {
  return (Object.keys(LIMIT_FLAGS) as (keyof XdsLimits)[]).map((key) => ({ name: LIMIT_FLAGS[key].slice(2), describe: `${HELP[key]} (default ${defaultText(key)})` }));
}

/** The limits from parsed flags (yargs' camelCase keys); unset flags keep their defaults. */
export function buildLimits(raw: Record<string, unknown>): XdsLimits {
  const limits = { ...DEFAULT_XDS_LIMITS };
  for (const key of Object.keys(LIMIT_FLAGS) as (keyof XdsLimits)[]) {
    const flag = LIMIT_FLAGS[key];
    const value = raw[argKey(flag)];
    if (value === undefined || value === null || value === '') continue;
    switch (KIND_OF[key]) {
      case 'count':
        limits[key] = validateCount(flag, value);
        break;
      case 'bytes':
        limits[key] = validateBytes(flag, value);
        break;
      case 'duration':
        limits[key] = validateDuration(flag, value, { allowZero: false });
    }
  }
  return limits;
}
