/**
 * The network an address belongs to, for `key.new-network`: the /24 of an IPv4 address or the
 * /48 of an IPv6 address (the usual end-site allocation, RFC 6177 §2). IPv4-mapped IPv6
 * (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2) counts as IPv4. Returns null for anything unparsable.
 */
export function networkPrefix(address: string): string | null {
  let ip = address.trim();
  const zone = ip.indexOf('%');
  if (zone >= 0) ip = ip.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) ip = mapped[1]!;
  if (ip.includes('.') && !ip.includes(':')) {
    const parts = ip.split('.');
    if (parts.length !== 4) return null;
    for (const p of parts) {
      if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    }
    return `${Number(parts[0])}.${Number(parts[1])}.${Number(parts[2])}.0/24`;
  }
  const groups = expandIpv6(ip);
  if (!groups) return null;
  return `${groups.slice(0, 3).join(':')}::/48`;
}

/** The eight 16-bit groups of an IPv6 address, lower-case without leading zeros; null if invalid. */
function expandIpv6(ip: string): string[] | null {
  if (!/^[0-9a-fA-F:.]+$/.test(ip)) return null;
  const halves = ip.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string): string[] | null => {
    if (s === '') return [];
    const out: string[] = [];
    for (const g of s.split(':')) {
      if (/^\d+\.\d+\.\d+\.\d+$/.test(g)) {
        // Embedded IPv4 in the last 32 bits (RFC 4291 §2.2 form 3).
        const b = g.split('.').map(Number);
        if (b.some((x) => x > 255)) return null;
        out.push(((b[0]! << 8) | b[1]!).toString(16), ((b[2]! << 8) | b[3]!).toString(16));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16).toString(16));
    }
    return out;
  };
  const left = parse(halves[0]!);
  const right = halves.length === 2 ? parse(halves[1]!) : [];
  if (!left || !right) return null;
  if (halves.length === 1) return left.length === 8 ? left : null;
  const missing = 8 - left.length - right.length;
  if (missing < 1) return null;
  return [...left, ...Array<string>(missing).fill('0'), ...right];
}
