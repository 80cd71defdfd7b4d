/**
 * What fwknop's packet is on the wire, before any decryption (docs/fwknop-format.md): its length,
 * the stripped "U2FsdGVkX1" prefix, the base64 alphabet, the appended HMAC (checked on the bytes as
 * received, in constant time), and the replay digest fwknopd keeps. A flood of fwknop-shaped junk
 * costs what this file does: no allocation before the HMAC. Never throws. Pure.
 */

import { createHash } from 'node:crypto';
import { HmacKey } from '../hmac.js';
import { MAX_FWKNOP_PACKET_BYTES, MIN_FWKNOP_PACKET_BYTES } from '../limits.js';
import type { FwknopWireRejectReason } from '../reasons.js';
import { fwknopKeysProblem, type FwknopKeys } from './fwknop-cipher.js';
import { B64_CHARS, b64 } from './fwknop-text.js';

/** B64_RIJNDAEL_SALT (lib/fko.h): base64 of "Salted__", stripped by the client, restored by the server. */
export const FWKNOP_SALT_PREFIX = 'U2FsdGVkX1';
const SALT_PREFIX_BYTES = Buffer.from(FWKNOP_SALT_PREFIX, 'latin1');
/** MIN_SPA_ENCODED_MSG_SIZE: the encrypted part is at least this many characters. */
export const FWKNOP_MIN_ENCODED_CHARS = 36;

/** The HMAC key of a stanza's keys, prepared once: the check every fwknop-shaped datagram pays for. */
const hmacKeys = new WeakMap<FwknopKeys, HmacKey>();
export function hmacKeyOf(keys: FwknopKeys): HmacKey {
  let h = hmacKeys.get(keys);
  if (h === undefined) {
    h = new HmacKey(keys.hmacType, keys.hmacKey as Uint8Array);
    hmacKeys.set(keys, h);
  }
  return h;
}

/**
 * Whether packet[at..at+chars) is the first `chars` characters of `expectedB64` (base64 with its
 * padding, which the tag on the wire lacks), compared in constant time for a given length.
 */
function equalB64Tag(expectedB64: string, packet: Uint8Array, at: number, chars: number): boolean {
  if (expectedB64.length < chars) return false;
  let diff = 0;
  for (let i = 0; i < chars; i++) diff |= expectedB64.charCodeAt(i) ^ (packet[at + i] as number);
  return diff === 0;
}

/** The replay digest fwknopd stores: SHA-256 of the packet as received (HMAC included, no prefix), base64 unpadded. */
export function fwknopReplayDigest(packet: Uint8Array): string {
  return b64(createHash('sha256').update(packet).digest());
}

/** The same digest in hex, as the replay store keys it (half the cost of converting the base64). */
export function fwknopReplayDigestHex(packet: Uint8Array): string {
  return createHash('sha256').update(packet).digest('hex');
}

function startsWithText(b: Uint8Array, prefix: string): boolean {
  if (b.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix.charCodeAt(i)) return false;
  return true;
}
/** 1 for the 64 characters of the base64 alphabet (no padding), 0 for every other byte. */
const B64_ALPHABET = (() => {
  const t = new Uint8Array(256);
  for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') t[c.charCodeAt(0)] = 1;
  return t;
})();
function isB64Alphabet(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (B64_ALPHABET[b[i] as number] === 0) return false;
  return true;
}

/** The checks before any key: length, prefix, alphabet. Null when the packet may be tried against keys. */
export function fwknopFrameProblem(packet: Uint8Array): FwknopWireRejectReason | null {
  const n = packet instanceof Uint8Array ? packet.length : -1;
  if (n < MIN_FWKNOP_PACKET_BYTES || n > MAX_FWKNOP_PACKET_BYTES) return 'fwknop-length';
  if (startsWithText(packet, FWKNOP_SALT_PREFIX)) return 'fwknop-prefix';
  if (!isB64Alphabet(packet)) return 'fwknop-malformed';
  return null;
}

/**
 * Whether the packet's HMAC holds for keys.hmacKey (true when keys have no HMAC key: there is
 * nothing to check before AES). The frame checks are the caller's (fwknopFrameProblem). One HMAC,
 * constant-time compare; never throws. Lets a caller with many stanzas sharing an HMAC key compute
 * it once.
 */
export function fwknopHmacHolds(packet: Uint8Array, keys: FwknopKeys): boolean {
  if (keys.hmacKey === null) return true;
  try {
    if (fwknopKeysProblem(keys) !== null) return false;
    const encryptedChars = packet.length - B64_CHARS[keys.hmacType];
    return encryptedChars >= FWKNOP_MIN_ENCODED_CHARS && hmacTagHolds(packet, keys, encryptedChars);
  } catch {
    return false;
  }
}

/**
 * Whether the last characters of `packet`, from `encryptedChars` on, are the base64 HMAC of the
 * bytes before them under keys.hmacKey (which the caller has checked is set and well formed).
 */
export function hmacTagHolds(packet: Uint8Array, keys: FwknopKeys, encryptedChars: number): boolean {
  const expected = hmacKeyOf(keys).mac(SALT_PREFIX_BYTES, packet.subarray(0, encryptedChars)).toString('base64');
  return equalB64Tag(expected, packet, encryptedChars, packet.length - encryptedChars);
}
