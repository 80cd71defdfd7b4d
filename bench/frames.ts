/**
 * Frames files for `flood --mode frames`: whole Ethernet frames, made here, sent by flood once each,
 * in order, unmodified (used for bursts of valid SPA packets from many distinct spoofed sources).
 *
 * Contract: udpFrame builds Ethernet + IPv4 (20-byte header, DF, TTL 64) + UDP with a correct IPv4
 * header checksum and a correct UDP checksum, padded to the 60-byte Ethernet minimum; it throws on
 * a bad address, port or an oversized payload. writeFramesFile writes records of (u16 big-endian
 * length, that many bytes) with file mode 0600.
 */

import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';
import { isIPv4 } from 'node:net';

/** Largest UDP payload in one unfragmented 1500-byte-MTU frame. */
export const MAX_UDP_PAYLOAD_BYTES = 1500 - 20 - 8;

function macBytes(mac: string): Buffer {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac)) throw new Error(`not a MAC address: ${mac}`);
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

function ipv4Bytes(addr: string): Buffer {
  if (!isIPv4(addr)) throw new Error(`not an IPv4 address: ${addr}`);
  return Buffer.from(addr.split('.').map((o) => Number(o)));
}

function checkPort(name: string, p: number): void {
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`${name} out of range 0..65535: ${p}`);
}

/** Ones-complement sum of 16-bit big-endian words (odd length padded with a zero byte). */
function sum16(buf: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export function udpFrame(o: {
  srcMac: string;
  dstMac: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  payload: Uint8Array;
}): Buffer {
  checkPort('sport', o.sport);
  checkPort('dport', o.dport);
  if (o.payload.length > MAX_UDP_PAYLOAD_BYTES)
    throw new Error(`payload of ${o.payload.length} bytes exceeds ${MAX_UDP_PAYLOAD_BYTES}`);
  const src = ipv4Bytes(o.src);
  const dst = ipv4Bytes(o.dst);
  const udpLen = 8 + o.payload.length;
  const ipLen = 20 + udpLen;
  const f = Buffer.alloc(Math.max(14 + ipLen, 60));

  macBytes(o.dstMac).copy(f, 0);
  macBytes(o.srcMac).copy(f, 6);
  f.writeUInt16BE(0x0800, 12);

  const ip = 14;
  f[ip] = 0x45;
  f[ip + 1] = 0;
  f.writeUInt16BE(ipLen, ip + 2);
  f.writeUInt16BE(0, ip + 4); // ID (DF set, so never used for reassembly)
  f.writeUInt16BE(0x4000, ip + 6);
  f[ip + 8] = 64;
  f[ip + 9] = 17;
  src.copy(f, ip + 12);
  dst.copy(f, ip + 16);
  f.writeUInt16BE(fold(sum16(f, ip, ip + 20)), ip + 10);

  const udp = ip + 20;
  f.writeUInt16BE(o.sport, udp);
  f.writeUInt16BE(o.dport, udp + 2);
  f.writeUInt16BE(udpLen, udp + 4);
  f.set(o.payload, udp + 8);
  const pseudo = sum16(src, 0, 4) + sum16(dst, 0, 4) + 17 + udpLen;
  const c = fold(sum16(f, udp, udp + udpLen, pseudo));
  f.writeUInt16BE(c === 0 ? 0xffff : c, udp + 6);
  return f;
}

export function writeFramesFile(path: string, frames: readonly Uint8Array[]): void {
  const parts: Buffer[] = [];
  for (const [i, fr] of frames.entries()) {
    if (fr.length < 14 || fr.length > 0xffff) throw new Error(`frame ${i}: length ${fr.length} outside 14..65535`);
    const h = Buffer.alloc(2);
    h.writeUInt16BE(fr.length, 0);
    parts.push(h, Buffer.from(fr.buffer, fr.byteOffset, fr.length));
  }
  const fd = openSync(path, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600); // also when the file already existed
    const data = Buffer.concat(parts);
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
  } finally {
    closeSync(fd);
  }
}
