/**
 * Raw 32-byte X25519 / Ed25519 keys to and from node:crypto KeyObjects.
 *
 * Contract: the wire format and the credential files carry keys as raw bytes (RFC 7748, RFC 8032);
 * node:crypto wants KeyObjects. These helpers wrap raw bytes in the fixed DER headers of PKCS#8
 * (private) and SPKI (public) for the two curves (RFC 8410), and read the raw public key back out.
 * Inputs are local (configuration, the client's own random bytes), so a wrong length is a
 * programming error and throws a plain Error; callers validate lengths of anything remote first.
 * Pure: no clock, no randomness, no I/O.
 */

import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

/** Size of every raw key handled here: an X25519 scalar or u-coordinate, an Ed25519 seed or point. */
export const RAW_KEY_BYTES = 32;

// RFC 8410 DER headers; the raw key follows each directly. OID 1.3.101.110 is X25519, 1.3.101.112 Ed25519.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function withPrefix(prefix: Buffer, raw: Uint8Array, what: string): Buffer {
  if (!(raw instanceof Uint8Array) || raw.length !== RAW_KEY_BYTES) {
    throw new Error(
      `${what} must be ${RAW_KEY_BYTES} bytes, got ${raw instanceof Uint8Array ? raw.length : typeof raw}`,
    );
  }
  const der = Buffer.allocUnsafe(prefix.length + RAW_KEY_BYTES);
  prefix.copy(der, 0);
  der.set(raw, prefix.length);
  return der;
}

/** An X25519 private key from its raw 32-byte scalar (clamping is X25519's job, not the caller's). */
export function x25519PrivateFromRaw(raw: Uint8Array): KeyObject {
  return createPrivateKey({
    key: withPrefix(X25519_PKCS8_PREFIX, raw, 'X25519 private key'),
    format: 'der',
    type: 'pkcs8',
  });
}

/** An X25519 public key from its raw 32-byte u-coordinate. */
export function x25519PublicFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: withPrefix(X25519_SPKI_PREFIX, raw, 'X25519 public key'),
    format: 'der',
    type: 'spki',
  });
}

/** An Ed25519 private key from its 32-byte seed (RFC 8032 §5.1.5: the seed is the private key). */
export function ed25519PrivateFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({
    key: withPrefix(ED25519_PKCS8_PREFIX, seed, 'Ed25519 seed'),
    format: 'der',
    type: 'pkcs8',
  });
}

/** An Ed25519 public key from its raw 32-byte encoded point. */
export function ed25519PublicFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: withPrefix(ED25519_SPKI_PREFIX, raw, 'Ed25519 public key'),
    format: 'der',
    type: 'spki',
  });
}

/**
 * The raw 32-byte public key of an X25519 or Ed25519 key, private or public. JWK is the one export
 * format node gives for both curves without our parsing DER: `x` is the raw public key, base64url.
 */
export function rawPublicOf(key: KeyObject): Uint8Array {
  const type = key.asymmetricKeyType;
  if (type !== 'x25519' && type !== 'ed25519')
    throw new Error(`expected an X25519 or Ed25519 key, got ${String(type)}`);
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('key export has no public part');
  const raw = Buffer.from(jwk.x, 'base64url');
  if (raw.length !== RAW_KEY_BYTES) throw new Error(`public key is ${raw.length} bytes, expected ${RAW_KEY_BYTES}`);
  return new Uint8Array(raw); // a copy: small Buffers share node's pool, callers may modify theirs
}
