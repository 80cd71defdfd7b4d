/**
 * The sealed part of a native SPA datagram (docs/protocol.md, steps 1–3 and 6, rung 3): X25519
 * between the client's ephemeral key and the server's, HKDF-SHA256 to a ChaCha20-Poly1305 key and
 * nonce, and the AEAD over cid || body || auth with associated data E' || context.
 *
 * Contract: sealerKeys throws on a bad local input or a low-order server key; openSealed never
 * throws: it returns the plaintext or the reason rung 3 fails, and tries the sibling doors' contexts
 * and v1's derivation only when this door's AEAD does not open (so that the refusal says why).
 */

import { createCipheriv, createDecipheriv, diffieHellman, hkdfSync, type KeyObject } from 'node:crypto';
import { isAllZero } from './byte-checks.js';
import { RAW_KEY_BYTES, rawPublicOf, x25519PrivateFromRaw, x25519PublicFromRaw } from './keys.js';
import type { SpaServerKeys } from './native-door-keys.js';
import { MAC1_BYTES } from './native-frame.js';

const SEAL_INFO_PREFIX = Buffer.from('knockgate-spa-v2/seal', 'ascii');
const V1_SEAL_INFO_PREFIX = Buffer.from('knockgate-spa-v1/seal', 'ascii');
const TAG_BYTES = 16; // Poly1305
const AEAD_KEY_BYTES = 32;
const AEAD_NONCE_BYTES = 12;

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

/**
 * Steps 1–3 on the client's side: E' (E with its top bit set to `topBit`) and the AEAD key and
 * nonce agreed with the server's public key S.
 */
export function sealerKeys(
  serverPublicKey: Uint8Array,
  ephemeralPrivate: Uint8Array,
  topBit: 0 | 1,
): { ePrime: Buffer; key: Buffer; nonce: Buffer } {
  const e = x25519PrivateFromRaw(ephemeralPrivate);
  const ePrime = Buffer.from(rawPublicOf(e));
  ePrime[31] = ((ePrime[31] as number) & 0x7f) | (topBit << 7);
  const shared = diffieHellman({ privateKey: e, publicKey: x25519PublicFromRaw(serverPublicKey) });
  if (isAllZero(shared)) throw new Error('server public key is a low-order point');
  return { ePrime, ...aeadKeys(shared, serverPublicKey, ePrime) };
}

/** Step 6: ChaCha20-Poly1305 ciphertext || tag, with associated data E' || context. */
export function sealPlaintext(
  k: { ePrime: Buffer; key: Buffer; nonce: Buffer },
  context: Uint8Array,
  plaintext: Buffer,
): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', k.key, k.nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.concat([k.ePrime, context]), { plaintextLength: plaintext.length });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/**
 * E' as a KeyObject, per packet (keys.ts imports it as JWK: this runs for every packet that passes
 * mac1). X25519 ignores bit 255 (RFC 7748 §5); clearing it here does not rely on the library to.
 */
function peerPublicKey(ePrime: Uint8Array): KeyObject {
  const u = Buffer.from(ePrime);
  u[31] = (u[31] as number) & 0x7f;
  return x25519PublicFromRaw(u);
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
export function openSealed(
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
