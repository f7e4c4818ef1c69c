import { isIP } from 'node:net';

/**
 * The Host header check of the admin port, against DNS rebinding: a page a browser loaded
 * from an attacker's name that later resolves to this pod (or to 127.0.0.1 on a laptop running
 * `herald demo`) still sends the attacker's name as Host, and is refused. Probes, Prometheus and
 * port-forwards send an IP literal or `localhost`; other names must be listed
 * (--admin-allowed-host). `allowedNames` holds lower-case names without a trailing dot.
 */
export function isAllowedHost(host: string | undefined, allowedNames: ReadonlySet<string>): boolean {
  if (host === undefined) return false;
  const value = host.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value);
  if (bracketed) return isIP(bracketed[1]!) === 6;
  if (isIP(value) === 6) return true;
  const match = /^([^:]+)(?::(\d{1,5}))?$/.exec(value);
  if (!match) return false;
  const name = match[1]!.toLowerCase().replace(/\.$/, '');
  if (isIP(name) === 4) return true;
  return name === 'localhost' || allowedNames.has(name);
}

/** The set isAllowedHost takes, from --admin-allowed-host values. */
export function allowedHostSet(names: Iterable<string>): ReadonlySet<string> {
  return new Set([...names].map((name) => name.toLowerCase().replace(/\.$/, '')));
}
