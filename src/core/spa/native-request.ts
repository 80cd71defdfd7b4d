/**
 * The plaintext request of a native SPA datagram (docs/protocol.md, "body"): version, flags, the
 * timestamp, the nonce, the duration, the address (family 0, 4 or 6) and prefix, the ports.
 *
 * Contract: encodeSpaBody throws on a request the wire cannot carry or the server would call
 * malformed; decodeSpaBody (rung 6) never throws and accepts exactly what encodeSpaBody can
 * produce, so that decode(encode(r)) is r and anything else is null.
 */

import { PROTOCOL_NUMBER, type Endpoint } from '../endpoint.js';
import { MAX_SPA_PORTS, SPA_NONCE_BYTES } from '../limits.js';
import { requireBytes } from './byte-checks.js';

export const SPA_VERSION = 2;

export interface SpaAddress {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}
export interface SpaRequest {
  readonly timestampMs: number; // integer, 0..2^53-1
  readonly nonce: Uint8Array; // SPA_NONCE_BYTES
  readonly durationS: number; // u32; 0 = door default
  readonly address: SpaAddress | null; // null = family 0 (packet source)
  readonly prefix: number; // 0..128 with family 0; 1..32 / 1..128 with an address
  readonly ports: readonly Endpoint[]; // 0..MAX_SPA_PORTS; empty = door default
}

const BODY_FIXED_BYTES = 33; // version..prefix (32) + count (1)
const TWO_32 = 2 ** 32;
const MAX_TIMESTAMP_HIGH_WORD = 0x1f_ffff; // high 32 bits of Number.MAX_SAFE_INTEGER
const PROTO_BY_NUMBER = new Map<number, Endpoint['proto']>([
  [PROTOCOL_NUMBER.tcp, 'tcp'],
  [PROTOCOL_NUMBER.udp, 'udp'],
]);

/** The body of step 4. Throws on a request the wire cannot carry or the server would call malformed. */
export function encodeSpaBody(r: SpaRequest): Uint8Array {
  const t = r.timestampMs;
  if (!Number.isSafeInteger(t) || t < 0) throw new Error('timestampMs must be an integer in 0..2^53-1');
  requireBytes(r.nonce, SPA_NONCE_BYTES, 'nonce');
  if (!Number.isInteger(r.durationS) || r.durationS < 0 || r.durationS >= TWO_32)
    throw new Error('durationS must be a u32');
  const family = r.address === null ? 0 : r.address.family;
  const addrLen = family === 0 ? 0 : family === 4 ? 4 : family === 6 ? 16 : -1;
  if (addrLen < 0) throw new Error('address family must be 4 or 6');
  if (r.address !== null) requireBytes(r.address.bytes, addrLen, `IPv${family} address`);
  const maxPrefix = family === 4 ? 32 : 128;
  const minPrefix = family === 0 ? 0 : 1;
  if (!Number.isInteger(r.prefix) || r.prefix < minPrefix || r.prefix > maxPrefix)
    throw new Error(`prefix must be ${minPrefix}..${maxPrefix}`);
  if (r.ports.length > MAX_SPA_PORTS) throw new Error(`at most ${MAX_SPA_PORTS} ports`);
  const out = Buffer.alloc(BODY_FIXED_BYTES + addrLen + 3 * r.ports.length);
  out[0] = SPA_VERSION;
  out[1] = 0; // flags
  out.writeUInt32BE(Math.floor(t / TWO_32), 2);
  out.writeUInt32BE(t % TWO_32, 6);
  out.set(r.nonce, 10);
  out.writeUInt32BE(r.durationS, 26);
  out[30] = family;
  out[31] = r.prefix;
  if (r.address !== null) out.set(r.address.bytes, 32);
  let o = 32 + addrLen;
  out[o++] = r.ports.length;
  for (const p of r.ports) {
    const proto = PROTOCOL_NUMBER[p.proto];
    if (proto === undefined) throw new Error(`unknown protocol ${String(p.proto)}`);
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65_535)
      throw new Error(`port must be 1..65535, got ${p.port}`);
    out[o] = proto;
    out.writeUInt16BE(p.port, o + 1);
    o += 3;
  }
  return out;
}

/** Rung 6: the body parsed exactly, or null. Copies what it keeps, so the result owns its bytes. */
export function decodeSpaBody(body: Uint8Array): SpaRequest | null {
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength); // a view, for the read helpers
  if (b.length < BODY_FIXED_BYTES || b[0] !== SPA_VERSION || b[1] !== 0) return null;
  const high = b.readUInt32BE(2);
  if (high > MAX_TIMESTAMP_HIGH_WORD) return null; // not exactly representable as a JS number
  const timestampMs = high * TWO_32 + b.readUInt32BE(6);
  const family = b[30];
  const prefix = b[31] as number;
  const addrLen = family === 0 ? 0 : family === 4 ? 4 : family === 6 ? 16 : -1;
  if (addrLen < 0) return null;
  const maxPrefix = family === 4 ? 32 : 128;
  if (prefix > maxPrefix || (family !== 0 && prefix === 0)) return null;
  if (b.length < BODY_FIXED_BYTES + addrLen) return null;
  const count = b[32 + addrLen] as number;
  if (count > MAX_SPA_PORTS || b.length !== BODY_FIXED_BYTES + addrLen + 3 * count) return null;
  const ports: Endpoint[] = [];
  for (let o = BODY_FIXED_BYTES + addrLen; o < b.length; o += 3) {
    const proto = PROTO_BY_NUMBER.get(b[o] as number);
    const port = b.readUInt16BE(o + 1);
    if (proto === undefined || port === 0) return null;
    ports.push({ proto, port });
  }
  return {
    timestampMs,
    nonce: new Uint8Array(b.subarray(10, 10 + SPA_NONCE_BYTES)),
    durationS: b.readUInt32BE(26),
    address: family === 4 || family === 6 ? { family, bytes: new Uint8Array(b.subarray(32, 32 + addrLen)) } : null,
    prefix,
    ports,
  };
}
