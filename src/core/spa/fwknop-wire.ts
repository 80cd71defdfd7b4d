/**
 * fwknop's SPA packet (Rijndael mode, as the fwknop 2.6 client and fwknopd build and check it), per
 * docs/fwknop-format.md: opening (server side) and sealing (client side). The parts live by
 * concept beside it: fwknop-frame.ts (length, prefix, HMAC, replay digest), fwknop-cipher.ts (keys,
 * KDF, AES), fwknop-message.ts (the plaintext's fields), fwknop-text.ts (base64 and digests); this
 * file composes them and re-exports what callers use.
 *
 * Contract: openFwknop never throws, whatever the bytes or keys; every packet ends in `ok` or exactly
 * one FwknopWireRejectReason, the first failing check. Cheap checks come first (length, prefix, base64
 * alphabet), then the HMAC (constant-time) when an HMAC key is configured, and only then AES.
 * Freshness, replay and policy need a clock, a store and configuration, so they are the caller's.
 * sealFwknop throws on invalid local input, and on a packet fwknopd would refuse. Pure: node:crypto
 * computes, but the salt, the random digits and the time are arguments.
 */

import { MAX_FWKNOP_PACKET_BYTES, MIN_FWKNOP_PACKET_BYTES } from '../limits.js';
import type { FwknopWireRejectReason } from '../reasons.js';
import { decryptFwknopText, encryptFwknopText, fwknopKeysProblem, type FwknopKeys } from './fwknop-cipher.js';
import {
  FWKNOP_MIN_ENCODED_CHARS,
  FWKNOP_SALT_PREFIX,
  fwknopFrameProblem,
  hmacKeyOf,
  hmacTagHolds,
} from './fwknop-frame.js';
import {
  encodeFwknopPlaintext,
  parseFwknopPlaintext,
  type FwknopOpenResult,
  type FwknopSealInput,
} from './fwknop-message.js';
import { B64_CHARS, b64 } from './fwknop-text.js';

export type { FwknopWireRejectReason } from '../reasons.js';
export { FWKNOP_DIGEST_TYPES, FWKNOP_HMAC_TYPES, type FwknopDigestType, type FwknopHmacType } from './fwknop-text.js';
export { deriveFwknopAesKey, fwknopKeysProblem, type FwknopKeys } from './fwknop-cipher.js';
export { fwknopFrameProblem, fwknopHmacHolds, fwknopReplayDigest, fwknopReplayDigestHex } from './fwknop-frame.js';
export {
  FWKNOP_MESSAGE_TYPE,
  FWKNOP_PROTOCOL_VERSION,
  encodeFwknopPlaintext,
  parseFwknopAccess,
  parseFwknopPlaintext,
  type FwknopMessage,
  type FwknopOpenResult,
  type FwknopSealInput,
} from './fwknop-message.js';

const SALT_BYTES = 8;

export interface FwknopRandom {
  readonly salt: Uint8Array; // 8 random bytes
  readonly randomDigits: string; // 16 random decimal digits
}

function reject(reason: FwknopWireRejectReason): { readonly ok: false; readonly reason: FwknopWireRejectReason } {
  return { ok: false, reason };
}

/**
 * Checks up to decryption: length, prefix, alphabet, HMAC, AES. The plaintext (digest not yet
 * checked) or the reason. openFwknop = this, then parseFwknopPlaintext.
 */
export function decryptFwknop(
  packet: Uint8Array,
  keys: FwknopKeys,
): { ok: true; plaintext: string } | { ok: false; reason: FwknopWireRejectReason } {
  const frame = fwknopFrameProblem(packet);
  if (frame !== null) return reject(frame);
  const n = packet.length;
  // The HMAC is checked on the bytes as received, before any text is made of them: junk costs one
  // HMAC and nothing else (this is the per-packet cost of a flood of fwknop-shaped datagrams).
  let encryptedChars = n;
  try {
    if (fwknopKeysProblem(keys) !== null) return reject(keys.hmacKey !== null ? 'fwknop-hmac' : 'fwknop-decrypt');
    if (keys.hmacKey !== null) {
      const tagChars = B64_CHARS[keys.hmacType];
      // Unreachable with MIN_FWKNOP_PACKET_BYTES (140 − 86 ≥ 36), kept as fko_verify_hmac has it.
      if (n - tagChars < FWKNOP_MIN_ENCODED_CHARS) return reject('fwknop-length');
      encryptedChars = n - tagChars;
      if (!hmacTagHolds(packet, keys, encryptedChars)) return reject('fwknop-hmac');
    }
  } catch {
    return reject('fwknop-hmac'); // e.g. keys of the wrong shape: nothing authenticates against them
  }
  const encrypted = Buffer.from(packet.buffer, packet.byteOffset, encryptedChars).toString('latin1');
  const plaintext = decryptFwknopText(FWKNOP_SALT_PREFIX + encrypted, keys);
  return plaintext === null ? reject('fwknop-decrypt') : { ok: true, plaintext };
}

/** Verifies the HMAC (when keys.hmacKey), decrypts, parses, checks the inner digest. Never throws. */
export function openFwknop(packet: Uint8Array, keys: FwknopKeys): FwknopOpenResult {
  const d = decryptFwknop(packet, keys);
  return d.ok ? parseFwknopPlaintext(d.plaintext) : d;
}

/**
 * Builds a packet as the fwknop 2.6 client does (fko_spa_data_final, fko_get_spa_data in
 * lib/fko_funcs.c): base64 of "Salted__" || salt || AES ciphertext, unpadded, HMAC appended over it,
 * then the leading "U2FsdGVkX1" dropped. Throws on invalid input or a packet fwknopd would refuse.
 */
export function sealFwknop(m: FwknopSealInput, keys: FwknopKeys, random: FwknopRandom): Uint8Array {
  const problem = fwknopKeysProblem(keys);
  if (problem !== null) throw new Error(problem);
  if (!(random.salt instanceof Uint8Array) || random.salt.length !== SALT_BYTES)
    throw new Error('salt must be 8 bytes');
  const plaintext = encodeFwknopPlaintext(m, random.randomDigits);
  let wire = b64(encryptFwknopText(plaintext, keys, random.salt));
  if (keys.hmacKey !== null) wire += b64(hmacKeyOf(keys).mac(Buffer.from(wire, 'latin1')));
  if (!wire.startsWith(FWKNOP_SALT_PREFIX)) throw new Error('internal: ciphertext does not start with the salt header');
  wire = wire.slice(FWKNOP_SALT_PREFIX.length);
  if (wire.length < MIN_FWKNOP_PACKET_BYTES || wire.length > MAX_FWKNOP_PACKET_BYTES) {
    throw new Error(
      `the packet would be ${wire.length} bytes; fwknopd accepts ${MIN_FWKNOP_PACKET_BYTES}..${MAX_FWKNOP_PACKET_BYTES}`,
    );
  }
  return new Uint8Array(Buffer.from(wire, 'latin1'));
}
