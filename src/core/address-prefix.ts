/**
 * `ADDRESS` or `ADDRESS/PREFIX`, as a client asks for an address other than its packet's source
 * (knockgate knock --allow-ip, a credential's allow_ip). Pure; an error message on anything else.
 * No prefix means the address alone (/32 or /128).
 */

import { formatIPAddress, maskIPAddress, parseIPAddress, type IPAddressBytes } from './ip-address.js';

export interface AddressPrefix {
  readonly address: IPAddressBytes;
  readonly prefix: number;
}

export function parseAddressPrefix(value: string): AddressPrefix | { error: string } {
  const [addr, len] = value.split('/');
  const parsed = parseIPAddress(addr ?? '');
  if (!parsed) return { error: `expected ADDRESS or ADDRESS/PREFIX, got ${JSON.stringify(value)}` };
  const full = parsed.family === 4 ? 32 : 128;
  const prefix = len === undefined ? full : Number(len);
  if (!/^\d+$/.test(len ?? String(full)) || prefix < 1 || prefix > full)
    return { error: `prefix must be 1 to ${full}` };
  return { address: parsed, prefix };
}

/** The network's canonical text: the address masked to the prefix, `/PREFIX` only when shorter than the family's full length. */
export function formatAddressPrefix(address: IPAddressBytes, prefix: number): string {
  const text = formatIPAddress(maskIPAddress(address, prefix));
  return prefix === (address.family === 4 ? 32 : 128) ? text : `${text}/${prefix}`;
}
