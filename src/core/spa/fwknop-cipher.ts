/**
 * fwknop's Rijndael mode (docs/fwknop-format.md): the keys a stanza holds and what is wrong with
 * them, the KDF (OpenSSL's EVP_BytesToKey, as lib/cipher_funcs.c uses it), and AES-256 over
 * "Salted__" || salt || ciphertext in the stanza's ENCRYPTION_MODE: CBC (the default), ECB, CFB,
 * OFB, CTR, or legacy (CBC with the key '0'-padded or cut to 16 bytes). fwknop 2.6 pads the
 * plaintext to whole blocks (PKCS#7) in every mode, the stream modes too, and uses the KDF's IV as
 * CFB's and OFB's IV and as CTR's first counter block (checked against the real client's packets,
 * test/fixtures/fwknop-kat.json kat6-kat9). decryptFwknopText never throws: every failure is null.
 * Pure: the salt is an argument.
 */

import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { FWKNOP_LEGACY_KEY_BYTES, MAX_FWKNOP_HMAC_KEY_BYTES, MAX_FWKNOP_KEY_BYTES } from '../limits.js';
import { FWKNOP_HMAC_TYPES, fromB64, type FwknopHmacType } from './fwknop-text.js';

/** ENCRYPTION_MODE values fwknop 2.6 implements for Rijndael (PCBC it names but refuses). */
export const FWKNOP_ENCRYPTION_MODES = ['cbc', 'ecb', 'cfb', 'ofb', 'ctr', 'legacy'] as const;
export type FwknopEncryptionMode = (typeof FWKNOP_ENCRYPTION_MODES)[number];

/** The node (OpenSSL) cipher for each mode; legacy differs from CBC in its key only. */
const NODE_CIPHER: Readonly<Record<FwknopEncryptionMode, string>> = {
  cbc: 'aes-256-cbc',
  legacy: 'aes-256-cbc',
  ecb: 'aes-256-ecb',
  cfb: 'aes-256-cfb',
  ofb: 'aes-256-ofb',
  ctr: 'aes-256-ctr',
};

export interface FwknopKeys {
  /** KEY (the passphrase's bytes) or the decoded KEY_BASE64; 1..32 bytes (legacy: any length, cut or padded to 16). */
  readonly key: Uint8Array;
  readonly encryptionMode: FwknopEncryptionMode;
  /** HMAC_KEY's bytes or the decoded HMAC_KEY_BASE64, 1..136 bytes; null = no HMAC on the wire. */
  readonly hmacKey: Uint8Array | null;
  readonly hmacType: FwknopHmacType;
}

const SALTED_MAGIC = Buffer.from('Salted__', 'latin1');
const AES_BLOCK_BYTES = 16;
const AES_KEY_BYTES = 32;
/** FKO_RAND_VAL_SIZE: the plaintext's first field, 16 decimal digits. */
export const FWKNOP_RANDOM_DIGITS = 16;

/** The key fwknop hands to the KDF: legacy mode right-pads with ASCII '0' to 16 bytes or cuts to 16 (lib/cipher_funcs.c, server/access.c, client/fwknop.c). */
function kdfPassword(key: Uint8Array, mode: FwknopKeys['encryptionMode']): Buffer {
  if (mode !== 'legacy') return Buffer.from(key);
  const out = Buffer.alloc(FWKNOP_LEGACY_KEY_BYTES, '0');
  out.set(key.subarray(0, FWKNOP_LEGACY_KEY_BYTES));
  return out;
}

/** A description of what is wrong with the keys, or null. openFwknop refuses everything with bad keys. */
export function fwknopKeysProblem(keys: FwknopKeys): string | null {
  if (!(keys.key instanceof Uint8Array) || keys.key.length < 1) return 'the encryption key is empty';
  if (!FWKNOP_ENCRYPTION_MODES.includes(keys.encryptionMode))
    return `encryption mode must be one of ${FWKNOP_ENCRYPTION_MODES.join(', ')}`;
  if (keys.encryptionMode !== 'legacy' && keys.key.length > MAX_FWKNOP_KEY_BYTES)
    return `the encryption key must be at most ${MAX_FWKNOP_KEY_BYTES} bytes`;
  if (!FWKNOP_HMAC_TYPES.includes(keys.hmacType)) return `unknown HMAC type ${String(keys.hmacType)}`;
  if (keys.hmacKey !== null) {
    if (!(keys.hmacKey instanceof Uint8Array) || keys.hmacKey.length < 1) return 'the HMAC key is empty';
    if (keys.hmacKey.length > MAX_FWKNOP_HMAC_KEY_BYTES)
      return `the HMAC key must be at most ${MAX_FWKNOP_HMAC_KEY_BYTES} bytes`;
  }
  return null;
}

/**
 * AES-256 key and IV from the key and the 8-byte salt: OpenSSL's EVP_BytesToKey with MD5 and one
 * iteration, D1 = MD5(pw || salt), Di = MD5(Di-1 || pw || salt), key = D1 || D2, iv = D3
 * (rij_salt_and_iv, lib/cipher_funcs.c). `pw` is the key, '0'-padded or cut to 16 bytes in legacy mode.
 */
export function deriveFwknopAesKey(
  key: Uint8Array,
  salt: Uint8Array,
  mode: FwknopKeys['encryptionMode'],
): { key: Buffer; iv: Buffer } {
  const pw = kdfPassword(key, mode);
  const blocks: Buffer[] = [];
  let prev: Buffer = Buffer.alloc(0);
  for (let i = 0; i < 3; i++) {
    prev = createHash('md5').update(prev).update(pw).update(salt).digest();
    blocks.push(prev);
  }
  const kiv = Buffer.concat(blocks);
  return { key: kiv.subarray(0, AES_KEY_BYTES), iv: kiv.subarray(AES_KEY_BYTES, AES_KEY_BYTES + AES_BLOCK_BYTES) };
}

/** A cipher or decipher for the mode; ECB takes no IV. Padding is this file's business. */
function aes(
  make: typeof createCipheriv | typeof createDecipheriv,
  mode: FwknopEncryptionMode,
  key: Buffer,
  iv: Buffer,
): ReturnType<typeof createCipheriv> {
  const c = make(NODE_CIPHER[mode], key, mode === 'ecb' ? null : iv);
  c.setAutoPadding(false);
  return c;
}

/** AES-256 in the keys' mode with PKCS#7 padding over "Salted__" || salt || ciphertext (rij_encrypt, lib/cipher_funcs.c). */
export function encryptFwknopText(plaintext: string, keys: FwknopKeys, salt: Uint8Array): Buffer {
  const { key, iv } = deriveFwknopAesKey(keys.key, salt, keys.encryptionMode);
  const text = Buffer.from(plaintext, 'latin1');
  const pad = AES_BLOCK_BYTES - (text.length % AES_BLOCK_BYTES);
  const cipher = aes(createCipheriv, keys.encryptionMode, key, iv);
  return Buffer.concat([
    SALTED_MAGIC,
    salt,
    cipher.update(Buffer.concat([text, Buffer.alloc(pad, pad)])),
    cipher.final(),
  ]);
}

/**
 * Decrypts `encryptedWithPrefix` (base64, "U2FsdGVkX1" restored) into the plaintext text, or null:
 * not canonical base64, not a salt header plus whole blocks, bad padding, or a first field that is
 * not 16 digits and ':' (how _rijndael_decrypt in lib/fko_encryption.c tells a wrong key).
 */
export function decryptFwknopText(encryptedWithPrefix: string, keys: FwknopKeys): string | null {
  const raw = fromB64(encryptedWithPrefix);
  if (raw === null || raw.length < 2 * AES_BLOCK_BYTES || raw.length % AES_BLOCK_BYTES !== 0) return null;
  if (!raw.subarray(0, SALTED_MAGIC.length).equals(SALTED_MAGIC)) return null;
  const salt = raw.subarray(SALTED_MAGIC.length, AES_BLOCK_BYTES);
  let padded: Buffer;
  try {
    const { key, iv } = deriveFwknopAesKey(keys.key, salt, keys.encryptionMode);
    const decipher = aes(createDecipheriv, keys.encryptionMode, key, iv);
    padded = Buffer.concat([decipher.update(raw.subarray(AES_BLOCK_BYTES)), decipher.final()]);
  } catch {
    return null;
  }
  const pad = padded[padded.length - 1] as number;
  if (pad < 1 || pad > AES_BLOCK_BYTES) return null;
  for (let i = padded.length - pad; i < padded.length; i++) if (padded[i] !== pad) return null;
  const plain = padded.subarray(0, padded.length - pad);
  if (plain.length <= FWKNOP_RANDOM_DIGITS || plain[FWKNOP_RANDOM_DIGITS] !== 0x3a) return null;
  for (let i = 0; i < FWKNOP_RANDOM_DIGITS; i++) {
    const c = plain[i] as number;
    if (c < 0x30 || c > 0x39) return null;
  }
  return plain.toString('latin1');
}
