/**
 * The BPF filter (pcap-filter(7) syntax) that lets only possible knocks reach user space: packets
 * to a knock port, and on Ethernet only frames addressed to this interface's MAC. The kernel
 * applies it, so a flood to other ports costs nothing here. pcap-filter gives `and` and `or` equal
 * precedence, left to right: every alternative is parenthesised. The daemon still checks
 * everything; the filter only saves work.
 *
 * Not `inbound`: with libpcap 1.10 and the cap binding, a filter using `inbound` lost the first
 * matching packet after the capture opened (seen on veth, Linux 6.x); `ether dst` does not.
 */

import { endpointKey, type Endpoint } from './endpoint.js';

const MAC_TEXT = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function knockCaptureFilter(steps: Iterable<Endpoint>, etherDst?: string): string {
  const unique = new Map<number, Endpoint>();
  for (const s of steps) unique.set(endpointKey(s.proto, s.port), s);
  const sorted = [...unique.values()].sort((a, b) => endpointKey(a.proto, a.port) - endpointKey(b.proto, b.port));
  const link = etherDst !== undefined && MAC_TEXT.test(etherDst) ? `ether dst ${etherDst} and ` : '';
  if (sorted.length === 0) return 'less 0'; // matches nothing, keeps the capture valid
  const alternatives = sorted.map((e) => `(${e.proto} dst port ${e.port})`);
  return `${link}(${alternatives.join(' or ')})`;
}
