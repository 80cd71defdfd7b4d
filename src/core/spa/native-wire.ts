/**
 * The knockgate SPA v2 datagram, exactly as docs/protocol.md specifies it: sealing (client) and
 * rungs 1–6 of the server's ladder (length, mac1, decrypt, unknown client, auth, malformed).
 * A datagram is bound to one server key and one door id (the door context, in the AEAD's associated
 * data and in what the client's HMAC or signature covers): a door refuses a packet sealed for
 * another door (`spa-wrong-door` when that door is one of its siblings under the same key,
 * `spa-decrypt` otherwise) and a v1 packet (`spa-old-version`); it never accepts either.
 *
 * Contract: openSpa never throws, whatever the bytes; every datagram ends in `ok` or exactly one
 * SpaRejectReason, the first failing rung. Freshness, replay and policy (rungs 7–9) need the clock,
 * a store and configuration, so they are the caller's. sealSpa throws on invalid local input.
 * Pure: node:crypto computes, but randomness (ephemeral key, top bit, nonce) and the time are
 * arguments, so that docs/spa-vectors.json is reproducible.
 */

import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';
import { HmacKey } from '../hmac.js';
import { PROTOCOL_NUMBER, type Endpoint } from '../endpoint.js';
import { MAX_SPA_BYTES, MAX_SPA_PORTS, MIN_SPA_BYTES, SPA_CLIENT_ID_BYTES, SPA_NONCE_BYTES } from '../limits.js';
import type { SpaRejectReason } from '../reasons.js';
import { RAW_KEY_BYTES, rawPublicOf, x25519PrivateFromRaw, x25519PublicFromRaw } from './keys.js';

export const SPA_VERSION = 2;
/** Door ids: what a door is called on the wire; the door's name unless configured (a fleet shares them). */
export const DOOR_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

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
export type ClientAuthSecret =
  | { readonly mode: 'psk'; readonly psk: Uint8Array }
  | { readonly mode: 'ed25519'; readonly privateKey: KeyObject };
export interface SealInput {
  readonly serverPublicKey: Uint8Array; // 32
  /** The door the packet is for (DOOR_ID_PATTERN): only a door with this id under this key opens it. */
  readonly doorId: string;
  readonly clientId: Uint8Array; // 16
  readonly secret: ClientAuthSecret;
  readonly request: SpaRequest;
  readonly ephemeralPrivate: Uint8Array; // 32 random bytes (X25519 private scalar, raw)
  readonly topBit: 0 | 1; // the random bit r
}
/** For tests and vectors only: seal arbitrary body bytes, valid or not. */
export type RawSealInput = Omit<SealInput, 'request'> & { readonly body: Uint8Array };
export interface SpaServerKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: Uint8Array;
  readonly mac1Key: Uint8Array;
  /** The door these keys open packets for, and its context S || u8(len) || door id. */
  readonly doorId: string;
  readonly context: Uint8Array;
  /** Other doors under the same key (this daemon's): only to name `spa-wrong-door`; never accepted. */
  readonly siblingContexts: readonly Uint8Array[];
}
export interface SpaClientKey {
  readonly id: Uint8Array;
  readonly mode: 'psk' | 'ed25519';
  readonly psk?: Uint8Array;
  readonly publicKey?: KeyObject;
}
export type SpaOpenResult<C extends SpaClientKey> =
  | {
      readonly ok: true;
      readonly client: C;
      readonly request: SpaRequest;
      readonly replayKey: string /* hex(cid) + hex(nonce) */;
    }
  | { readonly ok: false; readonly reason: SpaRejectReason };

const LABEL = Buffer.from('knockgate-spa-v2', 'ascii');
const SEAL_INFO_PREFIX = Buffer.from('knockgate-spa-v2/seal', 'ascii');
/** v1's, kept on purpose: a v1 packet passes MAC1 and is then named `spa-old-version`. */
const MAC1_KEY_PREFIX = Buffer.from('knockgate-spa-v1/mac1', 'ascii');
const V1_SEAL_INFO_PREFIX = Buffer.from('knockgate-spa-v1/seal', 'ascii');
const TAG_BYTES = 16; // Poly1305
const MAC1_BYTES = 16;
const AEAD_KEY_BYTES = 32;
const AEAD_NONCE_BYTES = 12;
const AUTH_BYTES = { psk: 32, ed25519: 64 } as const; // HMAC-SHA256, Ed25519 signature
const PSK_BYTES = 32;
const BODY_FIXED_BYTES = 33; // version..prefix (32) + count (1)
const TWO_32 = 2 ** 32;
const MAX_TIMESTAMP_HIGH_WORD = 0x1f_ffff; // high 32 bits of Number.MAX_SAFE_INTEGER
const PROTO_BY_NUMBER = new Map<number, Endpoint['proto']>([
  [PROTOCOL_NUMBER.tcp, 'tcp'],
  [PROTOCOL_NUMBER.udp, 'udp'],
]);

function requireBytes(b: Uint8Array, n: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n) throw new Error(`${what} must be ${n} bytes`);
}
function isAllZero(b: Uint8Array): boolean {
  let acc = 0;
  for (const x of b) acc |= x;
  return acc === 0;
}
/** The MAC1 HMAC key of a server key set, prepared once (the check every datagram pays for). */
const mac1Hmacs = new WeakMap<SpaServerKeys, HmacKey>();
function mac1HmacOf(keys: SpaServerKeys): HmacKey {
  let h = mac1Hmacs.get(keys);
  if (h === undefined) {
    h = new HmacKey('sha256', keys.mac1Key);
    mac1Hmacs.set(keys, h);
  }
  return h;
}
function mac1KeyOf(serverPublicKey: Uint8Array): Uint8Array {
  return createHash('sha256').update(MAC1_KEY_PREFIX).update(serverPublicKey).digest();
}
/** HKDF-SHA256(shared, salt = S, info = LABEL || "/seal" || E') → 32-byte key, 12-byte nonce. */
function aeadKeys(
  shared: Uint8Array,
  serverPublicKey: Uint8Array,
  ePrime: Uint8Array,
  infoPrefix: Buffer = SEAL_INFO_PREFIX,
): { key: Buffer; nonce: Buffer } {
  const okm = Buffer.from(
    hkdfSync('sha256', shared, serverPublicKey, Buffer.concat([infoPrefix, ePrime]), AEAD_KEY_BYTES + AEAD_NONCE_BYTES),
  );
  return { key: okm.subarray(0, AEAD_KEY_BYTES), nonce: okm.subarray(AEAD_KEY_BYTES) };
}

/** The door context: S || u8(length of the door id) || door id (ASCII). Throws on a bad door id. */
export function doorContext(serverPublicKey: Uint8Array, doorId: string): Uint8Array {
  requireBytes(serverPublicKey, RAW_KEY_BYTES, 'server public key');
  if (typeof doorId !== 'string' || !DOOR_ID_PATTERN.test(doorId))
    throw new Error(`not a door id: ${JSON.stringify(doorId)} (1-64 letters, digits, "_", "." or "-")`);
  const id = Buffer.from(doorId, 'ascii');
  return Buffer.concat([serverPublicKey, Buffer.from([id.length]), id]);
}

/**
 * The server's key material for one door, derived once at start-up rather than per packet.
 * `siblingDoorIds`: the other doors this daemon serves under the same key, so that a packet meant
 * for one of them is named `spa-wrong-door` rather than `spa-decrypt`.
 */
export function serverKeysFromPrivate(
  raw: Uint8Array,
  doorId: string,
  siblingDoorIds: readonly string[] = [],
): SpaServerKeys {
  const privateKey = x25519PrivateFromRaw(raw);
  const publicKey = rawPublicOf(privateKey);
  const siblingContexts = [...new Set(siblingDoorIds)]
    .filter((d) => d !== doorId)
    .map((d) => doorContext(publicKey, d));
  return {
    privateKey,
    publicKey,
    mac1Key: mac1KeyOf(publicKey),
    doorId,
    context: doorContext(publicKey, doorId),
    siblingContexts,
  };
}

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

/** Steps 1–8 around a body given as bytes. Exported for tests and vectors; use sealSpa. */
export function sealRawBody(input: RawSealInput): Uint8Array {
  const { serverPublicKey, doorId, clientId, secret, body, ephemeralPrivate, topBit } = input;
  requireBytes(serverPublicKey, RAW_KEY_BYTES, 'server public key');
  const context = doorContext(serverPublicKey, doorId);
  requireBytes(clientId, SPA_CLIENT_ID_BYTES, 'client id');
  requireBytes(ephemeralPrivate, RAW_KEY_BYTES, 'ephemeral private key');
  if (topBit !== 0 && topBit !== 1) throw new Error('topBit must be 0 or 1');
  const e = x25519PrivateFromRaw(ephemeralPrivate);
  const ePrime = Buffer.from(rawPublicOf(e));
  ePrime[31] = ((ePrime[31] as number) & 0x7f) | (topBit << 7);
  const shared = diffieHellman({ privateKey: e, publicKey: x25519PublicFromRaw(serverPublicKey) });
  if (isAllZero(shared)) throw new Error('server public key is a low-order point');
  const { key, nonce } = aeadKeys(shared, serverPublicKey, ePrime);
  const signed = Buffer.concat([clientId, body]); // cid || body, the tail of the transcript
  let auth: Buffer;
  if (secret.mode === 'psk') {
    requireBytes(secret.psk, PSK_BYTES, 'psk');
    auth = createHmac('sha256', secret.psk).update(LABEL).update(context).update(ePrime).update(signed).digest();
  } else {
    if (secret.privateKey.asymmetricKeyType !== 'ed25519' || secret.privateKey.type !== 'private')
      throw new Error('expected an Ed25519 private key');
    auth = sign(null, Buffer.concat([LABEL, context, ePrime, signed]), secret.privateKey);
  }
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
  const plaintext = Buffer.concat([signed, auth]);
  cipher.setAAD(Buffer.concat([ePrime, context]), { plaintextLength: plaintext.length });
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  const out = Buffer.alloc(RAW_KEY_BYTES + sealed.length + MAC1_BYTES);
  out.set(ePrime, 0);
  out.set(sealed, RAW_KEY_BYTES);
  const mac1 = createHmac('sha256', mac1KeyOf(serverPublicKey))
    .update(out.subarray(0, out.length - MAC1_BYTES))
    .digest();
  out.set(mac1.subarray(0, MAC1_BYTES), out.length - MAC1_BYTES);
  return out;
}

/** The whole client side: encode the request, then seal it for the server. */
export function sealSpa(input: SealInput): Uint8Array {
  const { request, ...rest } = input;
  return sealRawBody({ ...rest, body: encodeSpaBody(request) });
}

/**
 * E' as a KeyObject, per packet. Through JWK rather than keys.ts's SPKI DER: OpenSSL 3's DER decoder
 * costs ~70 µs a key, JWK ~5 µs, and this runs for every packet that passes mac1. X25519 ignores
 * bit 255 (RFC 7748 §5); clearing it here does not rely on the library to.
 */
function peerPublicKey(ePrime: Uint8Array): KeyObject {
  const u = Buffer.from(ePrime);
  u[31] = (u[31] as number) & 0x7f;
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: u.toString('base64url') }, format: 'jwk' });
}

/** One AEAD opening attempt: the plaintext, or null if the tag does not verify. */
function aeadOpen(datagram: Uint8Array, key: Buffer, nonce: Buffer, aad: Uint8Array): Buffer | null {
  const tagStart = datagram.length - MAC1_BYTES - TAG_BYTES;
  try {
    const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad, { plaintextLength: tagStart - RAW_KEY_BYTES });
    decipher.setAuthTag(datagram.subarray(tagStart, tagStart + TAG_BYTES));
    const plaintext = decipher.update(datagram.subarray(RAW_KEY_BYTES, tagStart));
    decipher.final(); // throws if the tag does not verify
    return plaintext;
  } catch {
    return null;
  }
}

/**
 * Rung 3: cid || body || auth for this door, or why not. Only when this door's AEAD does not open,
 * the same DH result is tried against the sibling doors' contexts and against v1's derivation, so
 * that the refusal says why (at most 1 + siblings extra AEADs, past MAC1 and the work budget).
 */
function decrypt(
  datagram: Uint8Array,
  keys: SpaServerKeys,
): Buffer | 'spa-decrypt' | 'spa-wrong-door' | 'spa-old-version' {
  const ePrime = datagram.subarray(0, RAW_KEY_BYTES);
  let shared: Buffer;
  try {
    // Throws on some hostile points (OpenSSL refuses an all-zero result): that is a decrypt failure.
    shared = diffieHellman({ privateKey: keys.privateKey, publicKey: peerPublicKey(ePrime) });
  } catch {
    return 'spa-decrypt';
  }
  if (isAllZero(shared)) return 'spa-decrypt';
  const { key, nonce } = aeadKeys(shared, keys.publicKey, ePrime);
  const mine = aeadOpen(datagram, key, nonce, Buffer.concat([ePrime, keys.context]));
  if (mine !== null) return mine;
  for (const other of keys.siblingContexts) {
    if (aeadOpen(datagram, key, nonce, Buffer.concat([ePrime, other])) !== null) return 'spa-wrong-door';
  }
  const v1 = aeadKeys(shared, keys.publicKey, ePrime, V1_SEAL_INFO_PREFIX);
  if (aeadOpen(datagram, v1.key, v1.nonce, ePrime) !== null) return 'spa-old-version';
  return 'spa-decrypt';
}

function reject(reason: SpaRejectReason): { readonly ok: false; readonly reason: SpaRejectReason } {
  return { ok: false, reason };
}

/** Rung 5: the client's HMAC (constant-time) or signature over LABEL || context || E' || cid || body. */
function authenticates(
  client: SpaClientKey,
  context: Uint8Array,
  ePrime: Uint8Array,
  signed: Uint8Array,
  auth: Uint8Array,
): boolean {
  try {
    if (client.mode === 'psk') {
      if (client.psk === undefined) return false;
      const expected = createHmac('sha256', client.psk)
        .update(LABEL)
        .update(context)
        .update(ePrime)
        .update(signed)
        .digest();
      return timingSafeEqual(expected, auth);
    }
    if (client.publicKey === undefined) return false;
    return verify(null, Buffer.concat([LABEL, context, ePrime, signed]), client.publicKey, auth);
  } catch {
    return false; // e.g. a configured key of the wrong type: nothing can authenticate against it
  }
}

/**
 * Rungs 1–2: length and MAC1, the only work any datagram gets for nothing. They allocate almost
 * nothing, so that a flood of junk costs one HMAC per packet. Null when the datagram may go on.
 */
export function spaFrameProblem(datagram: Uint8Array, keys: SpaServerKeys): 'spa-length' | 'spa-mac1' | null {
  const n = datagram.length;
  if (n < MIN_SPA_BYTES || n > MAX_SPA_BYTES) return 'spa-length';
  const macStart = n - MAC1_BYTES;
  const mac1 = mac1HmacOf(keys).mac(datagram.subarray(0, macStart));
  if (!timingSafeEqual(mac1.subarray(0, MAC1_BYTES), datagram.subarray(macStart))) return 'spa-mac1';
  return null;
}

/**
 * Rungs 3–6 (the expensive ones: key agreement, AEAD, the client's HMAC or signature, the body),
 * for a datagram spaFrameProblem passed. `lookup` maps hex(cid) to the door's client, in O(1).
 */
export function openSpaSealed<C extends SpaClientKey>(
  datagram: Uint8Array,
  keys: SpaServerKeys,
  lookup: (clientIdHex: string) => C | undefined,
): SpaOpenResult<C> {
  const plaintext = decrypt(datagram, keys);
  if (typeof plaintext === 'string') return reject(plaintext);

  const cidHex = plaintext.toString('hex', 0, SPA_CLIENT_ID_BYTES);
  const client = lookup(cidHex);
  if (client === undefined) return reject('spa-unknown-client');

  const authLen = client.mode === 'psk' ? AUTH_BYTES.psk : AUTH_BYTES.ed25519;
  // Unreachable at MIN_SPA_BYTES (81 plaintext bytes ≥ 16 + 64), kept so the slicing below is safe.
  if (plaintext.length < SPA_CLIENT_ID_BYTES + authLen) return reject('spa-auth');
  const signedEnd = plaintext.length - authLen;
  if (
    !authenticates(
      client,
      keys.context,
      datagram.subarray(0, RAW_KEY_BYTES),
      plaintext.subarray(0, signedEnd),
      plaintext.subarray(signedEnd),
    )
  ) {
    return reject('spa-auth');
  }

  const request = decodeSpaBody(plaintext.subarray(SPA_CLIENT_ID_BYTES, signedEnd));
  if (request === null) return reject('spa-malformed');
  return { ok: true, client, request, replayKey: cidHex + Buffer.from(request.nonce).toString('hex') };
}

/**
 * Rungs 1–6: spaFrameProblem, then `admitExpensive` (asked once MAC1 holds; false ends with
 * `spa-overload`), then openSpaSealed. The daemon takes the rungs one by one
 * (core/spa/native-ladder.ts); this is the whole opening for callers with no budget.
 */
export function openSpa<C extends SpaClientKey>(
  datagram: Uint8Array,
  keys: SpaServerKeys,
  lookup: (clientIdHex: string) => C | undefined,
  admitExpensive: () => boolean = () => true,
): SpaOpenResult<C> {
  const frame = spaFrameProblem(datagram, keys);
  if (frame !== null) return reject(frame);
  if (!admitExpensive()) return reject('spa-overload');
  return openSpaSealed(datagram, keys, lookup);
}
