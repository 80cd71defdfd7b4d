/**
 * The text encodings fwknop's packets are made of (docs/fwknop-format.md): unpadded base64 as
 * lib/base64.c writes it, the digest names and their base64 lengths, and the small character-class
 * tests the field parsers share. Pure.
 */

import { createHash, timingSafeEqual } from 'node:crypto';

export type FwknopHmacType = 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'sha3-256' | 'sha3-512';
export type FwknopDigestType = FwknopHmacType;
export const FWKNOP_HMAC_TYPES: readonly FwknopHmacType[] = [
  'md5',
  'sha1',
  'sha256',
  'sha384',
  'sha512',
  'sha3-256',
  'sha3-512',
];
export const FWKNOP_DIGEST_TYPES: readonly FwknopDigestType[] = FWKNOP_HMAC_TYPES;

const NODE_HASH: Readonly<Record<FwknopHmacType, string>> = {
  md5: 'md5',
  sha1: 'sha1',
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
  'sha3-256': 'sha3-256',
  'sha3-512': 'sha3-512',
};
/** Unpadded base64 length of each digest (*_B64_LEN in lib/md5.h, lib/sha1.h, lib/sha2.h, lib/sha3.h). */
export const B64_CHARS: Readonly<Record<FwknopHmacType, number>> = {
  md5: 22,
  sha1: 27,
  sha256: 43,
  sha384: 64,
  sha512: 86,
  'sha3-256': 43,
  'sha3-512': 86,
};
const B64_TEXT = /^[A-Za-z0-9+/]*$/;

/** Base64 without '=' padding, as b64_encode + strip_b64_eq (lib/base64.c) write it. */
export function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '');
}
/** The bytes of unpadded base64 text, or null unless `text` is exactly what b64() writes for them. */
export function fromB64(text: string): Buffer | null {
  if (!B64_TEXT.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64');
  return b64(bytes) === text ? bytes : null;
}
export function digestB64(type: FwknopDigestType, data: string): string {
  return b64(createHash(NODE_HASH[type]).update(data, 'latin1').digest());
}
/** Constant-time for a given length. */
export function equalText(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}
export function isPrintableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}
export function isDigits(s: string, min: number, max: number): boolean {
  if (s.length < min || s.length > max) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
