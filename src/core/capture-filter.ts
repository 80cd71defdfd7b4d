/**
 * The BPF filter (pcap-filter(7) syntax) that lets only possible knocks reach user space: packets
 * arriving (`inbound`) for a knock port. The kernel applies it, so a flood to other ports costs
 * nothing here. pcap-filter gives `and` and `or` equal precedence, left to right: every
 * alternative is parenthesised. The daemon still checks everything; the filter only saves work.
 */

import { endpointKey, type Endpoint } from './endpoint.js';

export function knockCaptureFilter(steps: Iterable<Endpoint>): string {
  const unique = new Map<number, Endpoint>();
  for (const s of steps) unique.set(endpointKey(s.proto, s.port), s);
  const sorted = [...unique.values()].sort((a, b) => endpointKey(a.proto, a.port) - endpointKey(b.proto, b.port));
  if (sorted.length === 0) return 'inbound and (tcp or udp) and less 0'; // matches nothing, keeps the capture valid
  const alternatives = sorted.map((e) => `(${e.proto} dst port ${e.port})`);
  return `inbound and (${alternatives.join(' or ')})`;
}
