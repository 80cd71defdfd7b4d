/**
 * A secret sealed under a passphrase (the `sealed:` block of a client credential, docs/protocol.md
 * "Passphrase-protected credentials"): key = scrypt(passphrase, salt, N, r, p) of 32 bytes, then
 * ChaCha20-Poly1305 under that key and a 12-byte nonce, with associated data that binds the
 * file's other fields, so that a file whose name, door, client id or server key was edited does
 * not open. Pure computation: the salt and nonce are the caller's (fresh random ones to seal, the
 * file's to open), and the cost parameters are checked against core/limits.ts before anything is
 * derived, so that a hostile file is refused at once instead of costing gigabytes or minutes.
 */

import { createCipheriv, createDecipheriv, scryptSync } from 'node:crypto';
import {
  MAX_PASSPHRASE_BYTES,
  MAX_SCRYPT_SALT_BYTES,
  SCRYPT_MAX_MEMORY_BYTES,
  SCRYPT_MAX_N,
  SCRYPT_MAX_P,
  SCRYPT_MAX_R,
  SCRYPT_MAX_WORK,
  SCRYPT_MIN_N,
  SCRYPT_MIN_R,
  SCRYPT_SALT_BYTES,
} from './limits.js';

export const SEALED_KDF = 'scrypt';
export const SEALED_KEY_BYTES = 32;
export const SEALED_NONCE_BYTES = 12;
export const SEALED_TAG_BYTES = 16;
/** First bytes of the associated data: a seal made for anything else never opens as this. */
export const SEALED_AAD_LABEL = 'knockgate-sealed-secret-v1';

export interface ScryptParameters {
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Uint8Array;
}

/** One field the seal binds: its key in the file and its canonical text (docs/protocol.md). */
export type BoundField = readonly [key: string, value: string];

/** Why these parameters are refused (the field and what is wrong), or null when they are within limits. */
export function scryptParametersProblem(p: ScryptParameters): { key: string; detail: string } | null {
  const { n, r } = p;
  if (!Number.isSafeInteger(n) || n < SCRYPT_MIN_N || n > SCRYPT_MAX_N || (n & (n - 1)) !== 0)
    return { key: 'n', detail: `must be a power of two from ${SCRYPT_MIN_N} to ${SCRYPT_MAX_N}` };
  if (!Number.isSafeInteger(r) || r < SCRYPT_MIN_R || r > SCRYPT_MAX_R)
    return { key: 'r', detail: `must be a whole number from ${SCRYPT_MIN_R} to ${SCRYPT_MAX_R}` };
  if (!Number.isSafeInteger(p.p) || p.p < 1 || p.p > SCRYPT_MAX_P)
    return { key: 'p', detail: `must be a whole number from 1 to ${SCRYPT_MAX_P}` };
  if (128 * n * r > SCRYPT_MAX_MEMORY_BYTES)
    return { key: 'n', detail: `with r, needs 128·N·r = ${128 * n * r} bytes; at most ${SCRYPT_MAX_MEMORY_BYTES}` };
  if (n * r * p.p > SCRYPT_MAX_WORK) return { key: 'p', detail: `N·r·p must be at most ${SCRYPT_MAX_WORK}` };
  if (p.salt.length < SCRYPT_SALT_BYTES || p.salt.length > MAX_SCRYPT_SALT_BYTES)
    return { key: 'salt', detail: `must decode to ${SCRYPT_SALT_BYTES} to ${MAX_SCRYPT_SALT_BYTES} bytes` };
  return null;
}

/** The passphrase as the KDF takes it: NFC, then UTF-8 (the same words typed on any system give the same key). */
export function passphraseBytes(passphrase: string): Buffer {
  return Buffer.from(passphrase.normalize('NFC'), 'utf8');
}

/**
 * The 32-byte sealing key. Throws a plain Error on parameters out of limits or a passphrase longer
 * than MAX_PASSPHRASE_BYTES: the callers check both first and report them in their own terms.
 */
export function deriveSealingKey(passphrase: string, params: ScryptParameters): Buffer {
  const problem = scryptParametersProblem(params);
  if (problem) throw new Error(`scrypt ${problem.key} ${problem.detail}`);
  const bytes = passphraseBytes(passphrase);
  if (bytes.length > MAX_PASSPHRASE_BYTES) throw new Error(`passphrase longer than ${MAX_PASSPHRASE_BYTES} bytes`);
  return scryptSync(bytes, params.salt, SEALED_KEY_BYTES, {
    N: params.n,
    r: params.r,
    p: params.p,
    // Node refuses above maxmem (32 MiB by default); the limits above are the real bound.
    maxmem: SCRYPT_MAX_MEMORY_BYTES + 1024 * 1024,
  });
}

/**
 * The associated data: the label, then each field as u8 key length, key (ASCII), u16 big-endian
 * value length, value (UTF-8), in the order given. Lengths make the encoding unambiguous.
 */
export function associatedData(fields: readonly BoundField[]): Buffer {
  const parts: Buffer[] = [Buffer.from(SEALED_AAD_LABEL, 'ascii')];
  for (const [key, value] of fields) {
    const k = Buffer.from(key, 'ascii');
    const v = Buffer.from(value, 'utf8');
    if (k.length > 0xff || v.length > 0xffff) throw new Error(`bound field ${key} is too long`);
    const head = Buffer.alloc(1);
    head[0] = k.length;
    const len = Buffer.alloc(2);
    len.writeUInt16BE(v.length);
    parts.push(head, k, len, v);
  }
  return Buffer.concat(parts);
}

/** ChaCha20-Poly1305: ciphertext || 16-byte tag. */
export function sealSecret(key: Uint8Array, nonce: Uint8Array, secret: Uint8Array, aad: Uint8Array): Buffer {
  if (nonce.length !== SEALED_NONCE_BYTES) throw new Error(`nonce must be ${SEALED_NONCE_BYTES} bytes`);
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: SEALED_TAG_BYTES });
  cipher.setAAD(aad, { plaintextLength: secret.length });
  return Buffer.concat([cipher.update(secret), cipher.final(), cipher.getAuthTag()]);
}

/** The secret, or null when the tag does not verify (wrong key, or any bound field or byte changed). */
export function openSecret(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer | null {
  if (nonce.length !== SEALED_NONCE_BYTES || sealed.length < SEALED_TAG_BYTES) return null;
  const body = sealed.subarray(0, sealed.length - SEALED_TAG_BYTES);
  try {
    const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: SEALED_TAG_BYTES });
    decipher.setAAD(aad, { plaintextLength: body.length });
    decipher.setAuthTag(sealed.subarray(sealed.length - SEALED_TAG_BYTES));
    const secret = decipher.update(body);
    decipher.final(); // throws when the tag does not verify
    return secret;
  } catch {
    return null;
  }
}
