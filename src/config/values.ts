import { isIP } from 'node:net';
import { SERVICE_SCOPES, type ServiceScope } from '../model/index.js';
import { ConfigError } from './errors.js';

/** A TCP port: 1..65535, or 0 meaning "any free port" (tests, side-by-side runs). */
export function validatePort(flag: string, value: unknown, options: { allowZero?: boolean } = {}): number {
  const allowZero = options.allowZero ?? true;
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  const low = allowZero ? 0 : 1;
  if (typeof n !== 'number' || Number.isNaN(n)) throw new ConfigError(`${flag}: '${String(value)}' is not a number (a port is an integer ${low}..65535)`);
  if (!Number.isInteger(n) || n < low || n > 65535) {
    throw new ConfigError(`${flag}: '${String(value)}' is not a port (an integer ${low}..65535)`);
  }
  return n;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration in milliseconds. Strings need units and may combine them ("250ms", "30s", "1m30s");
 * a bare "0" is zero. A number is taken as milliseconds, for callers that already converted.
 */
export function validateDuration(flag: string, value: unknown, options: { allowZero?: boolean } = {}): number {
  const allowZero = options.allowZero ?? true;
  let ms: number | undefined;
  if (typeof value === 'number') {
    ms = Number.isFinite(value) && value >= 0 ? value : undefined;
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (text === '0') ms = 0;
    else if (/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) {
      ms = 0;
      for (const part of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(part[1]) * UNIT_MS[part[2]!]!;
    } else if (/^\d+(\.\d+)?$/.test(text)) {
      throw new ConfigError(`${flag}: '${value}' needs a unit (e.g. ${text}s or ${text}ms)`);
    }
  }
  if (ms === undefined) {
    throw new ConfigError(`${flag}: '${String(value)}' is not a duration (e.g. 500ms, 30s, 1m30s)`);
  }
  if (!allowZero && ms === 0) throw new ConfigError(`${flag}: must be greater than zero`);
  return Math.round(ms);
}

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A Kubernetes label key: `[prefix/]name`, prefix a DNS subdomain of at most 253 characters. */
export function validateLabelKey(flag: string, value: unknown): string {
  const bad = (why: string) => new ConfigError(`${flag}: '${String(value)}' is not a valid label key: ${why}`);
  if (typeof value !== 'string' || value === '') throw bad('empty');
  const slash = value.indexOf('/');
  const name = slash < 0 ? value : value.slice(slash + 1);
  if (slash >= 0) {
    const prefix = value.slice(0, slash);
    if (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) throw bad(`prefix '${prefix}' is not a DNS subdomain`);
  }
  if (!LABEL_NAME.test(name)) {
    throw bad("name must be 1-63 characters of letters, digits, '-', '_' or '.', starting and ending alphanumeric");
  }
  return value;
}

/** A Kubernetes namespace name: a DNS label (RFC 1123), so never a dot: service names rely on it. */
export function validateNamespace(flag: string, value: unknown): string {
  if (typeof value !== 'string' || value.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value)) {
    throw new ConfigError(`${flag}: '${String(value)}' is not a namespace name (1-63 lowercase letters, digits and '-', starting and ending with a letter or digit)`);
  }
  return value;
}

export function validateServiceScope(flag: string, value: unknown): ServiceScope {
  if (typeof value !== 'string' || !(SERVICE_SCOPES as readonly string[]).includes(value)) {
    throw new ConfigError(`${flag}: '${String(value)}' is not a service scope (${SERVICE_SCOPES.join(' or ')})`);
  }
  return value as ServiceScope;
}

/** A container port name (IANA_SVC_NAME), as Kubernetes accepts in `ports[].name`. */
export function validatePortName(flag: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/.test(value) || value.includes('--') || !/[a-z]/.test(value)) {
    throw new ConfigError(`${flag}: '${String(value)}' is not a port name (1-15 lowercase letters, digits and '-', at least one letter, no '--')`);
  }
  return value;
}

const HOSTNAME = /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/;

/** An address to bind: an IP literal or a host name. */
export function validateHost(flag: string, value: unknown): string {
  if (typeof value !== 'string' || (isIP(value) === 0 && !HOSTNAME.test(value))) {
    throw new ConfigError(`${flag}: '${String(value)}' is not an IP address or host name`);
  }
  return value;
}

export function validateBoolean(flag: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ConfigError(`${flag}: '${String(value)}' is not true or false`);
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function validateLogLevel(flag: string, value: unknown): LogLevel {
  if (typeof value !== 'string' || !(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new ConfigError(`${flag}: '${String(value)}' is not a log level (${LOG_LEVELS.join(', ')})`);
  }
  return value as LogLevel;
}
