/**
 * One line of the firewall's own log: what netfilter's LOG target (nft `log prefix "P"`, iptables
 * `-j LOG --log-prefix P`) writes to the kernel log for a packet, read back into a transport packet.
 *
 * Contract: parseLogLine() returns a value for every string and never throws; a line longer than
 * MAX_KERNEL_LOG_LINE_BYTES is never split or searched past that length twice. Only the text after
 * `PREFIX` immediately followed by `IN=` is read (nf_log prints the prefix and then the fields with
 * no separator of its own), so the line may carry a syslog or dmesg header before it. A line
 * without that marker (at the line's start, or after a space or `]`) is `other`: the kernel log
 * holds everything else the kernel says.
 *
 * The fields (net/netfilter/nf_log_syslog.c): `IN= OUT= [MAC=] SRC= DST= LEN= ... PROTO=TCP|UDP
 * SPT= DPT= [SEQ= ACK=] ... <TCP flag words> ...`. IPv4 addresses are dotted quads, IPv6 ones are
 * printed fully expanded (%pI6: eight groups of four hex digits) and read only in that form; the
 * address text handed on is canonical (RFC 5952), as the packet parser writes it. The first of a
 * repeated key counts (UDP lines carry LEN= twice; ICMP errors quote the packet they answer
 * later in the line). The line carries no payload: a packet from it has an empty one.
 */

import { formatIPv6 } from './ip-address.js';
import { parseIPAddress } from './ip-address.js';
import { MAX_KERNEL_LOG_LINE_BYTES } from './limits.js';
import type { TransportPacket } from './packet.js';
import type { SensorRecordDropReason } from './reasons.js';

export type LogLineResult =
  | { readonly kind: 'packet'; readonly packet: TransportPacket; readonly inInterface: string }
  | { readonly kind: 'dropped'; readonly reason: SensorRecordDropReason }
  | { readonly kind: 'other' };

const OTHER: LogLineResult = { kind: 'other' };
const EMPTY = new Uint8Array(0);

/** TCP flag words as nf_log prints them, and their bits in the TCP header's flags byte. */
const TCP_FLAG_BITS: ReadonlyMap<string, number> = new Map([
  ['CWR', 0x80],
  ['ECE', 0x40],
  ['URG', 0x20],
  ['ACK', 0x10],
  ['PSH', 0x08],
  ['RST', 0x04],
  ['SYN', 0x02],
  ['FIN', 0x01],
]);

const EXPANDED_IPV6 = /^[0-9a-f]{4}(?::[0-9a-f]{4}){7}$/;
const DOTTED_IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const PORT = /^\d{1,5}$/;
const SEQ = /^\d{1,10}$/;
/** An interface name as nf_log prints it (IFNAMSIZ - 1 bytes, no spaces), or empty. */
const INTERFACE = /^[^\s=]{0,15}$/;

const dropped = (reason: SensorRecordDropReason): LogLineResult => ({ kind: 'dropped', reason });

/**
 * How the line reaches us. `message`: the kernel's message itself (/dev/kmsg, the journal's
 * MESSAGE), where nf_log puts the prefix first: the marker must start the line. `syslog`: a line
 * of a log file, where the marker must come right after the syslog header's `kernel: ` (and the
 * optional `[seconds.micros] ` stamp). Anywhere else a marker is some other message that quotes
 * it (a user can make the kernel print text of their choosing, e.g. a mount option it refuses):
 * never a packet.
 */
export type LogLineFraming = 'message' | 'syslog';

const SYSLOG_KERNEL_HEADER = / kernel: (?:\[\s*\d+\.\d+\] ?)?$/;

export function parseLogLine(line: string, prefix: string, framing: LogLineFraming = 'message'): LogLineResult {
  const marker = `${prefix}IN=`;
  if (line.length > MAX_KERNEL_LOG_LINE_BYTES) return line.includes(marker) ? dropped('log-line-too-long') : OTHER;
  const at = markerAt(line, marker, framing);
  if (at < 0) return OTHER;
  const fields = new Map<string, string>();
  const flagWords: string[] = [];
  let afterProto = false;
  for (const token of line.slice(at + prefix.length).split(' ')) {
    if (token === '') continue;
    const eq = token.indexOf('=');
    if (eq < 0) {
      if (afterProto) flagWords.push(token);
      continue;
    }
    const key = token.slice(0, eq);
    if (!fields.has(key)) fields.set(key, token.slice(eq + 1));
    if (key === 'PROTO') afterProto = true;
  }
  const inInterface = fields.get('IN') ?? '';
  const src = address(fields.get('SRC'));
  const dst = address(fields.get('DST'));
  const proto = fields.get('PROTO');
  if (!INTERFACE.test(inInterface) || src === null || dst === null || src.family !== dst.family || proto === undefined)
    return dropped('log-line-malformed');
  if (proto !== 'TCP' && proto !== 'UDP') return dropped('log-line-not-tcp-udp');
  const sport = port(fields.get('SPT'));
  const dport = port(fields.get('DPT'));
  if (sport === null || dport === null) return dropped('log-line-not-tcp-udp');
  let tcpFlags = 0;
  let tcpSeq = 0;
  if (proto === 'TCP') {
    for (const w of flagWords) tcpFlags |= TCP_FLAG_BITS.get(w) ?? 0;
    const seq = fields.get('SEQ');
    if (seq !== undefined) {
      if (!SEQ.test(seq) || Number(seq) > 0xffff_ffff) return dropped('log-line-malformed');
      tcpSeq = Number(seq);
    }
  }
  return {
    kind: 'packet',
    inInterface,
    packet: {
      family: src.family,
      src: src.text,
      dst: dst.text,
      proto: proto === 'TCP' ? 'tcp' : 'udp',
      sport,
      dport,
      tcpFlags,
      tcpSeq,
      payload: EMPTY,
    },
  };
}

/** Where the marker starts, as `framing` allows (see LogLineFraming); -1 when not there. */
function markerAt(line: string, marker: string, framing: LogLineFraming): number {
  if (framing === 'message') return line.startsWith(marker) ? 0 : -1;
  for (let at = line.indexOf(marker); at >= 0; at = line.indexOf(marker, at + 1))
    if (SYSLOG_KERNEL_HEADER.test(line.slice(0, at))) return at;
  return -1;
}

function port(text: string | undefined): number | null {
  if (text === undefined || !PORT.test(text)) return null;
  const n = Number(text);
  return n <= 65_535 ? n : null;
}

/** A dotted quad, or an IPv6 address in nf_log's expanded form; canonical text of its family. */
function address(text: string | undefined): { family: 4 | 6; text: string } | null {
  if (text === undefined) return null;
  if (DOTTED_IPV4.test(text)) {
    const a = parseIPAddress(text);
    return a?.family === 4 ? { family: 4, text } : null;
  }
  if (!EXPANDED_IPV6.test(text)) return null;
  const bytes = new Uint8Array(16);
  const groups = text.split(':');
  for (let i = 0; i < 8; i++) {
    const g = parseInt(groups[i] as string, 16);
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  }
  return { family: 6, text: formatIPv6(bytes, 0) };
}
