/**
 * Link-layer, IP and transport header parsing for captured frames.
 *
 * Contract: parseFrame() returns a value for every byte string, never throws, and never reads
 * outside the buffer. Every length field is checked against the bytes actually captured before it
 * is used. Nothing here trusts the capture library's decoders: they were not written for hostile
 * input. Supported: Ethernet (with up to MAX_VLAN_TAGS 802.1Q/802.1ad tags), Linux cooked capture
 * v1 and v2 (the `any` pseudo-interface), raw IP, BSD loopback; IPv4 and IPv6 (with extension
 * headers); TCP and UDP. Fragments are dropped: a knock is one small unfragmented packet.
 *
 * References: RFC 791 (IPv4), RFC 8200 (IPv6), RFC 9293 (TCP), RFC 768 (UDP),
 * tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html and LINKTYPE_LINUX_SLL2.html.
 */

import { formatIPv4, formatIPv6 } from './ip-address.js';
import { MAX_IPV6_EXTENSION_HEADERS, MAX_VLAN_TAGS } from './limits.js';
import type { FrameDropReason } from './reasons.js';
import type { Protocol } from './endpoint.js';

export type LinkType = 'ethernet' | 'linux-sll' | 'linux-sll2' | 'raw' | 'null';

export interface TransportPacket {
  readonly family: 4 | 6;
  readonly src: string;
  readonly dst: string;
  readonly proto: Protocol;
  readonly sport: number;
  readonly dport: number;
  /** TCP flags byte (0 for UDP). */
  readonly tcpFlags: number;
  /** TCP sequence number (0 for UDP); with sport it tells a retransmission from a new attempt. */
  readonly tcpSeq: number;
  /** Transport payload, a view into the captured buffer: copy it before the buffer is reused. */
  readonly payload: Uint8Array;
}

export type FrameResult =
  | { readonly ok: true; readonly packet: TransportPacket }
  | { readonly ok: false; readonly reason: FrameDropReason };

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
/** Cooked-capture packet type of frames addressed to this host (others: broadcast, multicast, other host, outgoing). */
const SLL_HOST = 0;

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
// IPv6 extension headers that may precede the transport header (RFC 8200 section 4).
const IPV6_HOP_BY_HOP = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_DEST_OPTS = 60;

function drop(reason: FrameDropReason): FrameResult {
  return { ok: false, reason };
}

function u16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}

function u32(b: Uint8Array, o: number): number {
  return (
    (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0
  );
}

/**
 * Parses one captured frame of the given link type. `length` is the captured length (≤ b.length).
 * `localMac`, for Ethernet: only frames addressed to it are knocks (the capture is promiscuous and
 * also sees what this host sends). Cooked captures carry the same fact as a packet type.
 */
export function parseFrame(
  linkType: LinkType,
  b: Uint8Array,
  length: number = b.length,
  localMac?: Uint8Array,
): FrameResult {
  const end = Math.min(length, b.length);
  switch (linkType) {
    case 'ethernet':
      if (localMac !== undefined && end >= 6 && !macEquals(b, localMac)) return drop('link-not-for-us');
      return parseEthernet(b, end);
    case 'linux-sll': {
      // 16 bytes: packet type(2), ARPHRD(2), addr len(2), addr(8), protocol(2).
      if (end < 16) return drop('frame-truncated');
      if (u16(b, 0) !== SLL_HOST) return drop('link-not-for-us');
      return parseByEthertype(u16(b, 14), b, 16, end);
    }
    case 'linux-sll2': {
      // 20 bytes: protocol(2), reserved(2), ifindex(4), ARPHRD(2), packet type(1), addr len(1), addr(8).
      if (end < 20) return drop('frame-truncated');
      if (b[10] !== SLL_HOST) return drop('link-not-for-us');
      return parseByEthertype(u16(b, 0), b, 20, end);
    }
    case 'raw': {
      if (end < 1) return drop('frame-truncated');
      const version = (b[0] as number) >> 4;
      if (version === 4) return parseIPv4(b, 0, end);
      if (version === 6) return parseIPv6(b, 0, end);
      return drop('link-unsupported');
    }
    case 'null': {
      // 4-byte address family in the capturing host's byte order: accept either order.
      if (end < 4) return drop('frame-truncated');
      const fam = (b[0] as number) | (b[3] as number);
      if (fam === 2) return parseIPv4(b, 4, end);
      if (fam === 10 || fam === 24 || fam === 28 || fam === 30) return parseIPv6(b, 4, end);
      return drop('link-unsupported');
    }
  }
}

function macEquals(b: Uint8Array, mac: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (b[i] !== mac[i]) return false;
  return mac.length === 6;
}

function parseEthernet(b: Uint8Array, end: number): FrameResult {
  if (end < 14) return drop('frame-truncated');
  let offset = 12;
  let ethertype = u16(b, offset);
  for (let tags = 0; ethertype === ETHERTYPE_VLAN || ethertype === ETHERTYPE_QINQ; tags++) {
    if (tags >= MAX_VLAN_TAGS) return drop('link-unsupported');
    offset += 4;
    if (end < offset + 2) return drop('frame-truncated');
    ethertype = u16(b, offset);
  }
  return parseByEthertype(ethertype, b, offset + 2, end);
}

function parseByEthertype(ethertype: number, b: Uint8Array, offset: number, end: number): FrameResult {
  if (ethertype === ETHERTYPE_IPV4) return parseIPv4(b, offset, end);
  if (ethertype === ETHERTYPE_IPV6) return parseIPv6(b, offset, end);
  return drop('link-unsupported');
}

function parseIPv4(b: Uint8Array, o: number, end: number): FrameResult {
  if (end - o < 20) return drop('frame-truncated');
  const vihl = b[o] as number;
  if (vihl >> 4 !== 4) return drop('ip-version-mismatch');
  const headerLen = (vihl & 0x0f) * 4;
  if (headerLen < 20) return drop('ip-header-invalid');
  const totalLen = u16(b, o + 2);
  if (totalLen < headerLen) return drop('ip-header-invalid');
  // Trailing link padding is allowed (short Ethernet frames are padded); a short capture is not.
  if (o + totalLen > end) return drop('frame-truncated');
  const fragment = u16(b, o + 6);
  if ((fragment & 0x2000) !== 0 || (fragment & 0x1fff) !== 0) return drop('ip-fragment');
  const proto = b[o + 9] as number;
  const src = formatIPv4(b, o + 12);
  const dst = formatIPv4(b, o + 16);
  return parseTransport(4, proto, src, dst, b, o + headerLen, o + totalLen);
}

function parseIPv6(b: Uint8Array, o: number, end: number): FrameResult {
  if (end - o < 40) return drop('frame-truncated');
  if ((b[o] as number) >> 4 !== 6) return drop('ip-version-mismatch');
  const payloadLen = u16(b, o + 4);
  // A payload length of 0 means a jumbogram (RFC 2675): never a knock.
  if (payloadLen === 0) return drop('ip-header-invalid');
  const packetEnd = o + 40 + payloadLen;
  if (packetEnd > end) return drop('frame-truncated');
  let next = b[o + 6] as number;
  let offset = o + 40;
  for (let count = 0; ; count++) {
    if (next === IPPROTO_TCP || next === IPPROTO_UDP) break;
    if (next === IPV6_FRAGMENT) return drop('ip-fragment');
    if (next !== IPV6_HOP_BY_HOP && next !== IPV6_ROUTING && next !== IPV6_DEST_OPTS)
      return drop('transport-unsupported');
    if (count >= MAX_IPV6_EXTENSION_HEADERS) return drop('ip-extension-headers-exceeded');
    if (packetEnd - offset < 8) return drop('ip-header-invalid');
    next = b[offset] as number;
    offset += ((b[offset + 1] as number) + 1) * 8;
    if (offset > packetEnd) return drop('ip-header-invalid');
  }
  return parseTransport(6, next, formatIPv6(b, o + 8), formatIPv6(b, o + 24), b, offset, packetEnd);
}

function parseTransport(
  family: 4 | 6,
  proto: number,
  src: string,
  dst: string,
  b: Uint8Array,
  o: number,
  end: number,
): FrameResult {
  if (proto === IPPROTO_TCP) {
    if (end - o < 20) return drop('frame-truncated');
    const dataOffset = ((b[o + 12] as number) >> 4) * 4;
    if (dataOffset < 20 || o + dataOffset > end) return drop('transport-header-invalid');
    return {
      ok: true,
      packet: {
        family,
        src,
        dst,
        proto: 'tcp',
        sport: u16(b, o),
        dport: u16(b, o + 2),
        tcpSeq: u32(b, o + 4),
        tcpFlags: b[o + 13] as number,
        payload: b.subarray(o + dataOffset, end),
      },
    };
  }
  if (proto === IPPROTO_UDP) {
    if (end - o < 8) return drop('frame-truncated');
    const udpLen = u16(b, o + 4);
    if (udpLen < 8 || o + udpLen > end) return drop('transport-header-invalid');
    return {
      ok: true,
      packet: {
        family,
        src,
        dst,
        proto: 'udp',
        sport: u16(b, o),
        dport: u16(b, o + 2),
        tcpSeq: 0,
        tcpFlags: 0,
        payload: b.subarray(o + 8, o + udpLen),
      },
    };
  }
  return drop('transport-unsupported');
}
