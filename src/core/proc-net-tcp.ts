/**
 * Parses Linux's /proc/net/tcp and /proc/net/tcp6 (see proc(5); written by the kernel's
 * tcp4_seq_show / tcp6_seq_show). Pure: the caller reads the text and says the host's byte order.
 *
 * Each row: `sl: LOCAL REMOTE st ...`, where an address is `ADDR:PORT` in hexadecimal. The port is
 * printed as a number (%04X, host value). The address is the raw in_addr / in6_addr printed as
 * 32-bit words, each word in host byte order (%08X per word): on a little-endian host, 127.0.0.1
 * is 0100007F. `st` is the TCP state; 01 is ESTABLISHED. Only established rows are returned. An
 * IPv4-mapped IPv6 address (an IPv4 peer of a dual-stack socket) is returned as IPv4, since
 * nftables matches such a packet by its IPv4 source. Rows that do not parse are skipped.
 */

import { formatIPAddress, parseIPAddress } from './ip-address.js';

export interface TcpSession {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

const TCP_ESTABLISHED = '01';
const ROW =
  /^\s*\d+:\s+([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})\s+([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})\s+([0-9A-Fa-f]{2})\s/;

function address(hex: string, littleEndian: boolean): string | null {
  const bytes = new Uint8Array(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++) {
    const word = Number.parseInt(hex.slice(w * 8, w * 8 + 8), 16);
    for (let i = 0; i < 4; i++) {
      const shift = littleEndian ? 8 * i : 8 * (3 - i);
      bytes[w * 4 + i] = (word >>> shift) & 0xff;
    }
  }
  const text =
    bytes.length === 4
      ? [...bytes].join('.')
      : Array.from({ length: 8 }, (_, i) =>
          (((bytes[2 * i] as number) << 8) | (bytes[2 * i + 1] as number)).toString(16),
        ).join(':');
  const parsed = parseIPAddress(text);
  return parsed === null ? null : formatIPAddress(parsed);
}

/** The established sessions in one file's text (its header line is skipped as any other row that does not parse). */
export function parseProcNetTcp(text: string, littleEndian: boolean): TcpSession[] {
  const out: TcpSession[] = [];
  for (const line of text.split('\n')) {
    const m = ROW.exec(line);
    if (m === null || m[5] !== TCP_ESTABLISHED) continue;
    const local = address(m[1] as string, littleEndian);
    const remote = address(m[3] as string, littleEndian);
    if (local === null || remote === null) continue;
    out.push({
      localAddress: local,
      localPort: Number.parseInt(m[2] as string, 16),
      remoteAddress: remote,
      remotePort: Number.parseInt(m[4] as string, 16),
    });
  }
  return out;
}
