/**
 * One NFLOG record as libpcap delivers it from an `nflog:N` device (link type DLT_NFLOG, 239), and
 * the transport packet inside it.
 *
 * Contract: parseNflogRecord() returns a value for every byte string, never throws, never reads
 * outside `length` bytes; at most MAX_NFLOG_TLVS TLVs are read. The packet comes from the
 * NFULA_PAYLOAD TLV (a second one is malformed) and is parsed by core/packet.ts as raw IP, which checks every header again
 * (the record's family byte must agree with the IP version). Its payload is a view into `b`.
 *
 * Format (tcpdump.org/linktypes/LINKTYPE_NFLOG.html, linux/netfilter/nfnetlink_log.h):
 *   u8 family (AF_INET 2, AF_INET6 10), u8 version (0), u16 group (big-endian), then TLVs:
 *   u16 length (header included), u16 type, value, padded to 4 bytes. Length and type are in the
 *   capturing host's byte order (little-endian here: the receive bindings refuse other hosts);
 *   values are big-endian, as netlink sends them. The type's top two bits are netlink flags.
 */

import { MAX_NFLOG_TLVS } from './limits.js';
import { parseFrame, type TransportPacket } from './packet.js';
import type { SensorDropReason } from './reasons.js';

const AF_INET = 2;
const AF_INET6 = 10;
const HEADER_BYTES = 4;
const TLV_HEADER_BYTES = 4;
const NLA_TYPE_MASK = 0x3fff;
const NFULA_IFINDEX_INDEV = 4;
const NFULA_PAYLOAD = 9;
const NFULA_PREFIX = 10;

export interface NflogRecord {
  readonly group: number;
  /** The log rule's prefix (`log group N prefix "..."`), '' without one. */
  readonly prefix: string;
  /** The interface index the packet came in on, 0 when the record does not say. */
  readonly inIfindex: number;
  readonly packet: TransportPacket;
}

export type NflogResult =
  | { readonly ok: true; readonly record: NflogRecord }
  | { readonly ok: false; readonly reason: SensorDropReason };

const drop = (reason: SensorDropReason): NflogResult => ({ ok: false, reason });

export function parseNflogRecord(b: Uint8Array, length: number = b.length): NflogResult {
  const end = Math.min(length, b.length);
  if (end < HEADER_BYTES) return drop('nflog-truncated');
  const family = b[0] as number;
  if ((family !== AF_INET && family !== AF_INET6) || b[1] !== 0) return drop('nflog-malformed');
  const group = ((b[2] as number) << 8) | (b[3] as number);
  let prefix = '';
  let inIfindex = 0;
  let payload: Uint8Array | null = null;
  let at = HEADER_BYTES;
  for (let count = 0; at < end; count++) {
    if (count >= MAX_NFLOG_TLVS) return drop('nflog-malformed');
    if (end - at < TLV_HEADER_BYTES) return drop('nflog-truncated');
    const tlvLength = (b[at] as number) | ((b[at + 1] as number) << 8);
    const type = ((b[at + 2] as number) | ((b[at + 3] as number) << 8)) & NLA_TYPE_MASK;
    if (tlvLength < TLV_HEADER_BYTES) return drop('nflog-malformed');
    if (at + tlvLength > end) return drop('nflog-truncated');
    const value = b.subarray(at + TLV_HEADER_BYTES, at + tlvLength);
    if (type === NFULA_PAYLOAD) {
      if (payload !== null) return drop('nflog-malformed'); // one packet per record
      payload = value;
    } else if (type === NFULA_PREFIX) prefix = prefixText(value);
    else if (type === NFULA_IFINDEX_INDEV && value.length === 4)
      inIfindex =
        (((value[0] as number) << 24) |
          ((value[1] as number) << 16) |
          ((value[2] as number) << 8) |
          (value[3] as number)) >>>
        0;
    // The last TLV's padding may be left out.
    at += (tlvLength + 3) & ~3;
  }
  if (payload === null || payload.length === 0) return drop('nflog-no-payload');
  if ((payload[0] as number) >> 4 !== (family === AF_INET ? 4 : 6)) return drop('ip-version-mismatch');
  const parsed = parseFrame('raw', payload);
  if (!parsed.ok) return parsed;
  return { ok: true, record: { group, prefix, inIfindex, packet: parsed.packet } };
}

/** The prefix TLV: NUL-terminated bytes; printable ASCII kept, anything else shown as '?'. */
function prefixText(value: Uint8Array): string {
  let out = '';
  for (const c of value) {
    if (c === 0) break;
    out += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?';
  }
  return out;
}
