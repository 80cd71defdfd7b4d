/**
 * Text forms of IP addresses read from packet bytes. IPv6 follows RFC 5952 (lower case, the
 * longest run of two or more zero groups shortened to `::`, the first such run on a tie, IPv4-mapped
 * addresses written `::ffff:a.b.c.d`), which is also what glibc's inet_ntop and so `nft` print:
 * the same address read from a packet and from the firewall gives the same string.
 * Callers guarantee the bounds (offset + 4 or 16 within the buffer); the packet parser checks them.
 */

export function formatIPv4(b: Uint8Array, offset: number): string {
  return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`;
}

export function formatIPv6(b: Uint8Array, offset: number): string {
  const groups: number[] = new Array(8);
  for (let i = 0; i < 8; i++) groups[i] = ((b[offset + 2 * i] as number) << 8) | (b[offset + 2 * i + 1] as number);
  // IPv4-mapped ::ffff:a.b.c.d
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${formatIPv4(b, offset + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  const hex = (g: number | undefined): string => (g as number).toString(16);
  if (bestStart === -1) return groups.map(hex).join(':');
  const head = groups.slice(0, bestStart).map(hex).join(':');
  const tail = groups.slice(bestStart + bestLen).map(hex).join(':');
  return `${head}::${tail}`;
}
