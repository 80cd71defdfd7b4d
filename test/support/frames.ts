/**
 * IP packets as a raw-IP capture delivers them (link type 'raw'), for unit tests that feed the
 * daemon through MemoryPacketSources: a TCP knock (SYN by default) or a UDP datagram, IPv4 or
 * IPv6 by the addresses given. Checksums are left zero: the header parser does not read them,
 * and neither does the kernel's capture path.
 */

import { parseIPAddress } from '../../src/core/ip-address.js';

export interface FrameAddresses {
  readonly src: string;
  readonly dst?: string;
  readonly sport?: number;
}

const TCP_SYN = 0x02;

function addressBytes(text: string): { family: 4 | 6; bytes: Uint8Array } {
  const a = parseIPAddress(text);
  if (a === null) throw new Error(`not an address: ${text}`);
  return a;
}

function ipPacket(a: FrameAddresses, proto: 6 | 17, l4: Uint8Array): Uint8Array {
  const src = addressBytes(a.src);
  const dst = addressBytes(a.dst ?? (src.family === 4 ? '198.18.0.1' : '2001:db8::1'));
  if (src.family !== dst.family) throw new Error('source and destination of different families');
  if (src.family === 4) {
    const b = new Uint8Array(20 + l4.length);
    const v = new DataView(b.buffer);
    b[0] = 0x45;
    v.setUint16(2, b.length);
    b[8] = 64;
    b[9] = proto;
    b.set(src.bytes, 12);
    b.set(dst.bytes, 16);
    b.set(l4, 20);
    return b;
  }
  const b = new Uint8Array(40 + l4.length);
  const v = new DataView(b.buffer);
  b[0] = 0x60;
  v.setUint16(4, l4.length);
  b[6] = proto;
  b[7] = 64;
  b.set(src.bytes, 8);
  b.set(dst.bytes, 24);
  b.set(l4, 40);
  return b;
}

/** A TCP segment to `dport`; flags SYN unless given, sequence number `seq` (a new attempt, a new number). */
export function tcpFrame(a: FrameAddresses, dport: number, o: { flags?: number; seq?: number } = {}): Uint8Array {
  const l4 = new Uint8Array(20);
  const v = new DataView(l4.buffer);
  v.setUint16(0, a.sport ?? 40000);
  v.setUint16(2, dport);
  v.setUint32(4, o.seq ?? Math.floor(Math.random() * 0xffffffff));
  l4[12] = 5 << 4;
  l4[13] = o.flags ?? TCP_SYN;
  v.setUint16(14, 65535);
  return ipPacket(a, 6, l4);
}

/** A UDP datagram to `dport` carrying `payload`. */
export function udpFrame(a: FrameAddresses, dport: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const l4 = new Uint8Array(8 + payload.length);
  const v = new DataView(l4.buffer);
  v.setUint16(0, a.sport ?? 40000);
  v.setUint16(2, dport);
  v.setUint16(4, l4.length);
  l4.set(payload, 8);
  return ipPacket(a, 17, l4);
}
