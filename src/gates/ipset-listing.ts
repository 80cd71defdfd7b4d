/**
 * Reads the grants out of `ipset list -output save SET` (ipset 7): the iptables gate's list().
 * Pure and bounded: at most MAX_IPSET_LISTING_BYTES of text are read, lines longer than
 * MAX_IPSET_LINE_CHARS are skipped, and nothing in the text can make the work grow faster than
 * its length. Never throws.
 *
 * What is read, for the one set asked about (every other line is skipped, not trusted):
 *   add NAME ADDR,PROTO:PORT [timeout N] [...]          an `ip` set (hash:ip,port)
 *   add NAME ADDR[/LEN],PROTO:PORT [timeout N] [...]    a `net` set (hash:net,port; ipset prints a
 *                                                       full-length prefix without its /LEN)
 * ADDR must be of the set's family (IPv6 addresses hold `:`, so the element is cut at its last
 * `,`), PROTO tcp or udp, PORT decimal 0-65535, N decimal seconds left. An entry marked `nomatch`
 * is an exception in the set, not a grant, and is skipped. A source comes back in canonical text
 * (an address, or the masked network and its length for a `net` set), as the gate writes it, so
 * that a listed grant and a grant made by the daemon have one key.
 */

import type { Endpoint } from '../core/endpoint.js';
import { formatIPAddress, maskIPAddress, parseIPAddress } from '../core/ip-address.js';
import { MAX_GRANT_DURATION_S, MAX_IPSET_LINE_CHARS, MAX_IPSET_LISTING_BYTES } from '../core/limits.js';
import type { ActiveGrant } from '../ports/gate.js';
import type { IpsetRef } from './iptables-ruleset.js';

const PORT = /^(tcp|udp):(\d{1,5})$/;
const SECONDS = /^\d{1,10}$/;

export function grantsFromIpsetSave(text: string, set: IpsetRef): ActiveGrant[] {
  const out: ActiveGrant[] = [];
  const head = `add ${set.name} `;
  const body = text.length > MAX_IPSET_LISTING_BYTES ? text.slice(0, MAX_IPSET_LISTING_BYTES) : text;
  let at = 0;
  while (at < body.length) {
    let end = body.indexOf('\n', at);
    if (end < 0) end = body.length;
    if (end - at <= MAX_IPSET_LINE_CHARS && body.startsWith(head, at)) {
      const grant = entry(body.slice(at + head.length, end), set);
      if (grant !== null) out.push(grant);
    }
    at = end + 1;
  }
  return out;
}

function entry(rest: string, set: IpsetRef): ActiveGrant | null {
  const words = rest.split(' ');
  const element = words[0] as string;
  let expiresInS = 0;
  for (let i = 1; i < words.length; i++) {
    const w = words[i];
    if (w === 'nomatch') return null;
    if (w === 'timeout') {
      const n = words[i + 1];
      if (n === undefined || !SECONDS.test(n)) return null;
      expiresInS = Math.min(Number(n), MAX_GRANT_DURATION_S);
      i++;
    }
  }
  const comma = element.lastIndexOf(',');
  if (comma < 0) return null;
  const m = PORT.exec(element.slice(comma + 1));
  if (m === null) return null;
  const port = Number(m[2]);
  if (port > 65_535) return null;
  const endpoint: Endpoint = { proto: m[1] as 'tcp' | 'udp', port };
  const source = sourceOf(element.slice(0, comma), set);
  return source === null ? null : { source, family: set.family, endpoint, expiresInS };
}

function sourceOf(text: string, set: IpsetRef): string | null {
  const slash = text.indexOf('/');
  const address = parseIPAddress(slash < 0 ? text : text.slice(0, slash));
  // parseIPAddress reads ::ffff:a.b.c.d as IPv4; an inet6 set never holds it that way.
  if (address === null || address.family !== set.family || (set.family === 6 && text.includes('.'))) return null;
  const bits = set.family === 4 ? 32 : 128;
  if (set.kind === 'ip') return slash < 0 ? formatIPAddress(address) : null;
  let len = bits;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText)) return null;
    len = Number(lenText);
    if (len < 1 || len > bits) return null;
  }
  return `${formatIPAddress(maskIPAddress(address, len))}/${len}`;
}
