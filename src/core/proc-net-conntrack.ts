/**
 * Parses /proc/net/nf_conntrack (the connection-tracking table of the reading process's network
 * namespace, one entry per line, as nf_conntrack_standalone.c prints it):
 *   ipv4     2 tcp      6 431999 ESTABLISHED src=A dst=B sport=P dport=Q src=B dst=A sport=Q dport=P [ASSURED] ...
 * IPv6 addresses are printed uncompressed (2001:0db8:0251:0000:...). Pure: returns the TCP
 * connections conntrack follows, each as its original-direction tuple in canonical address text,
 * so that the lockout guard can tell a session `ct state established` will keep from one it will
 * not know (a session that began before anything in the namespace used conntrack). Lines that do
 * not parse are skipped.
 */

import { formatIPAddress, parseIPAddress } from './ip-address.js';

const ENTRY = /^ipv[46]\s+\d+\s+tcp\s+6\s+\d+\s+\S+\s+src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+) /;

/** The key tupleKey() gives a connection seen from its initiator (source) to its responder. */
export function tupleKey(src: string, sport: number, dst: string, dport: number): string {
  return `${src} ${sport} ${dst} ${dport}`;
}

function canonical(text: string): string | null {
  const a = parseIPAddress(text);
  return a === null ? null : formatIPAddress(a);
}

/** The tracked TCP connections, as tupleKey(src, sport, dst, dport) of their original direction. */
export function parseConntrack(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = ENTRY.exec(line);
    if (m === null) continue;
    const src = canonical(m[1] as string);
    const dst = canonical(m[2] as string);
    if (src === null || dst === null) continue;
    out.add(tupleKey(src, Number(m[3]), dst, Number(m[4])));
  }
  return out;
}
