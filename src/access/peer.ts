import { BlockList, isIP } from 'node:net';

/**
 * A caller on a loopback address is inside the pod (or the machine): `kubectl port-forward`
 * arrives that way, so an operator reaches the admin pages without any token. Every address of
 * 127.0.0.0/8 is loopback, and so is ::1; an IPv4-mapped IPv6 address (::ffff:127.0.0.1, what a
 * dual-stack socket reports) counts as the IPv4 address it carries.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  return LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Filled here and never changed afterwards. */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * The address part of a peer as grpc-js names it (`call.getPeer()`): `ADDRESS:PORT` with IPv6
 * addresses unbracketed ("::1:40522"), or a bracketed form. The port is always there for TCP, so
 * the last `:digits` is the port even when the rest could parse as a longer IPv6 address.
 */
export function addressOfPeer(peer: string | undefined): string | undefined {
  if (peer === undefined) return undefined;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(peer);
  if (bracketed) return isIP(bracketed[1]!) ? bracketed[1] : undefined;
  const withPort = /^(.+):\d+$/.exec(peer);
  if (withPort && isIP(withPort[1]!)) return withPort[1];
  return isIP(peer) ? peer : undefined;
}
