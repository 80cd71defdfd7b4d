/**
 * The stanzas of one fwknop door, compiled at load so that what a datagram costs does not grow
 * with their number where it need not. fwknop packets carry no key id, so a packet must be tried
 * against every stanza whose SOURCE matches; what can be indexed is:
 *   - SOURCE: a hash per prefix length present (like a longest-prefix table without the
 *     "longest"): a lookup costs one hash per distinct prefix length in the door, not one match per
 *     stanza. Stanzas with SOURCE ANY are always candidates.
 *   - HMAC keys: stanzas with the same HMAC key and type form one group; a packet's HMAC is
 *     computed once per group (the dominant cost of junk, ~3 µs each). A stanza without an HMAC key
 *     is a group of its own (it costs an AES attempt).
 *
 * Contract: candidates(source) is exactly the stanzas whose SOURCE contains `source`, in file
 * order (what a scan with cidrSetContains gives); groupOf(i) is equal for two stanzas exactly when
 * their HMAC type and key bytes are equal (and both have one). DESTINATION is left to the caller
 * (cheap, and only known for captured packets). Pure; built once per compiled config.
 */

import type { FwknopStanza } from '../door.js';
import { maskIPAddress, type IPAddressBytes } from '../ip-address.js';

/** The key of `a`'s first `length` bits. IPv4 as a number (no allocation but the key: this is per datagram). */
function prefixKey(family: 4 | 6, length: number, a: IPAddressBytes): string | number {
  if (family === 4) {
    const b = a.bytes;
    const v = (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0;
    const masked = length === 0 ? 0 : (v & (0xffffffff << (32 - length))) >>> 0;
    return masked * 64 + length; // < 2^38: exact as a double
  }
  return `${length}/${Buffer.from(maskIPAddress(a, length).bytes).toString('hex')}`;
}

export class FwknopStanzaIndex {
  /** Stanzas with SOURCE ANY, in file order. */
  private readonly any: number[] = [];
  /** prefixKey → stanzas with that prefix in their SOURCE, in file order. */
  private readonly byPrefix = new Map<string | number, number[]>();
  /** The distinct prefix lengths present, per family. */
  private readonly lengths: Record<4 | 6, number[]> = { 4: [], 6: [] };
  private readonly groups: Int32Array;

  constructor(readonly stanzas: readonly FwknopStanza[]) {
    const groupIds = new Map<string, number>();
    this.groups = new Int32Array(stanzas.length);
    stanzas.forEach((s, i) => {
      if (s.sources.any) this.any.push(i);
      for (const p of s.sources.prefixes) {
        const key = prefixKey(p.network.family, p.length, p.network);
        const list = this.byPrefix.get(key);
        if (list === undefined) this.byPrefix.set(key, [i]);
        else if (list[list.length - 1] !== i) list.push(i);
        const ls = this.lengths[p.network.family];
        if (!ls.includes(p.length)) ls.push(p.length);
      }
      const gk = s.hmacKey === null ? `none/${i}` : `${s.hmacType}/${Buffer.from(s.hmacKey).toString('hex')}`;
      let g = groupIds.get(gk);
      if (g === undefined) {
        g = groupIds.size;
        groupIds.set(gk, g);
      }
      this.groups[i] = g;
    });
  }

  /** The stanzas whose SOURCE contains `source`, in file order. */
  candidates(source: IPAddressBytes): number[] {
    const ls = this.lengths[source.family];
    if (ls.length === 0) return this.any;
    const out = this.any.slice();
    for (const length of ls) {
      const hit = this.byPrefix.get(prefixKey(source.family, length, source));
      if (hit !== undefined) for (const i of hit) out.push(i);
    }
    if (out.length === this.any.length) return out;
    // A stanza listing two prefixes that both hold appears twice; file order is the contract.
    return [...new Set(out)].sort((a, b) => a - b);
  }

  groupOf(stanza: number): number {
    return this.groups[stanza] as number;
  }
}
