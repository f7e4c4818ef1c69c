/**
 * Sequential IPv4 allocation from a base address, as a node's IPAM roughly does: addresses are
 * handed out in order and only come round again after the pool wraps, so a simulated IP reuse
 * happens only when a test asks for it with a small pool.
 */
export class IpPool {
  private readonly base: number;
  private next = 0;

  constructor(
    base: string,
    private readonly size: number = 65_534,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`ip pool size must be a positive integer, got ${size}`);
    this.base = parseIpv4(base);
  }

  /** The next address not in use; addresses base+1 … base+size. */
  allocate(inUse: (ip: string) => boolean): string {
    for (let tries = 0; tries < this.size; tries++) {
      const ip = formatIpv4((this.base + 1 + this.next) >>> 0);
      this.next = (this.next + 1) % this.size;
      if (!inUse(ip)) return ip;
    }
    throw new Error(`ip pool exhausted (${this.size} addresses all in use)`);
  }
}

export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${text}`);
  let value = 0;
  for (const part of parts) {
    const octet = Number(part);
    if (!/^\d{1,3}$/.test(part) || octet > 255) throw new Error(`not an IPv4 address: ${text}`);
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}
