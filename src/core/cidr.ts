/**
 * Address sets written as lists of `ANY`, addresses and CIDR prefixes (fwknop's SOURCE and
 * DESTINATION). Compiled once at load into per-family prefix lists; matching is a scan of that
 * stanza's own short list. Pure.
 */

import { maskIPAddress, parseIPAddress, sameIPAddress, type IPAddressBytes } from './ip-address.js';

export interface CidrSet {
  readonly any: boolean;
  readonly prefixes: readonly { readonly network: IPAddressBytes; readonly length: number }[];
}

/** Parses `ANY`, `198.51.100.7`, `198.51.100.0/24`, `2001:db8::/32`; an error message otherwise. */
export function parseCidrList(items: readonly string[]): CidrSet | { error: string } {
  const prefixes: { network: IPAddressBytes; length: number }[] = [];
  let any = false;
  for (const raw of items) {
    const item = raw.trim();
    if (item.toUpperCase() === 'ANY') {
      any = true;
      continue;
    }
    const [addr, len] = item.split('/');
    const parsed = parseIPAddress(addr ?? '');
    if (parsed === null) return { error: `not an address or prefix: ${JSON.stringify(item)}` };
    const full = parsed.family === 4 ? 32 : 128;
    const length = len === undefined ? full : Number(len);
    if (!/^\d{1,3}$/.test(len ?? '0') || length > full)
      return { error: `bad prefix length in ${JSON.stringify(item)}` };
    prefixes.push({ network: maskIPAddress(parsed, length), length });
  }
  return { any, prefixes };
}

export function cidrSetContains(set: CidrSet, a: IPAddressBytes): boolean {
  if (set.any) return true;
  return set.prefixes.some(
    (p) => p.network.family === a.family && sameIPAddress(p.network, maskIPAddress(a, p.length)),
  );
}
