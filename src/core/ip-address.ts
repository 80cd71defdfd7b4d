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
  if (
    groups[0] === 0 &&
    groups[1] === 0 &&
    groups[2] === 0 &&
    groups[3] === 0 &&
    groups[4] === 0 &&
    groups[5] === 0xffff
  ) {
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
  const tail = groups
    .slice(bestStart + bestLen)
    .map(hex)
    .join(':');
  return `${head}::${tail}`;
}

export interface IPAddressBytes {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

const IPV4_TEXT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseIPv4Bytes(text: string): Uint8Array | null {
  const m = IPV4_TEXT.exec(text);
  if (!m) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = m[i + 1] as string;
    if (part.length > 1 && part.startsWith('0')) return null; // no octal ambiguity
    const n = Number(part);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIPv6Bytes(text: string): Uint8Array | null {
  if (text.length > 45 || text.includes('%')) return null;
  let head = text;
  let v4: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    v4 = parseIPv4Bytes(text.slice(lastColon + 1));
    if (!v4) return null;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = groupsOf(halves[0] as string);
  const right = halves.length === 2 ? groupsOf(halves[1] as string) : [];
  if (!left || !right) return null;
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...left, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...right];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  if (v4) out.set(v4, 12);
  return out;
}

/**
 * Parses an IPv4 or IPv6 address in text (no zone, no prefix). IPv4-mapped IPv6 addresses
 * (`::ffff:a.b.c.d`, as a dual-stack socket reports IPv4 peers) come back as IPv4.
 */
export function parseIPAddress(text: string): IPAddressBytes | null {
  const v4 = parseIPv4Bytes(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIPv6Bytes(text);
  if (!v6) return null;
  const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? { family: 4, bytes: v6.slice(12) } : { family: 6, bytes: v6 };
}

export function formatIPAddress(a: IPAddressBytes): string {
  return a.family === 4 ? formatIPv4(a.bytes, 0) : formatIPv6(a.bytes, 0);
}

/** The first `prefix` bits of the address, the rest zeroed. */
export function maskIPAddress(a: IPAddressBytes, prefix: number): IPAddressBytes {
  const out = Uint8Array.from(a.bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    out[i] = (out[i] as number) & ((0xff00 >> keep) & 0xff);
  }
  return { family: a.family, bytes: out };
}

export function sameIPAddress(a: IPAddressBytes, b: IPAddressBytes): boolean {
  return a.family === b.family && a.bytes.length === b.bytes.length && a.bytes.every((x, i) => x === b.bytes[i]);
}
