/**
 * Raw 32-byte X25519 / Ed25519 keys to and from node:crypto KeyObjects.
 *
 * Contract: the wire format and the credential files carry keys as raw bytes (RFC 7748, RFC 8032);
 * node:crypto wants KeyObjects. Keys go in as JWK (RFC 8037: `x` the raw public key, `d` the raw
 * private key, base64url), and the raw public key comes back out of a JWK export. Inputs are local
 * (configuration, the client's own random bytes), so a wrong length is a programming error and
 * throws a plain Error; callers validate lengths of anything remote first.
 * Pure: no clock, no randomness, no I/O.
 *
 * Why JWK and not DER (PKCS#8 / SPKI, RFC 8410): node hands DER to OpenSSL 3's decoders, whose
 * first use in a process costs about 1 ms and each later one ~70 µs, against ~5 µs for JWK, which
 * node turns straight into a raw key. The client pays the first use on every knock (ssh's
 * ProxyCommand pays it on every connection), and the daemon pays a key per packet. A private key's
 * JWK must name its public part `x`, which is what we do not have yet: node reads only `d` for an
 * OKP private key (checked, with the key it makes, by test/unit/spa-keys.test.ts on every Node
 * line we test), so `x` is given empty; were a later node to refuse that, the DER form is used.
 */

import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

/** Size of every raw key handled here: an X25519 scalar or u-coordinate, an Ed25519 seed or point. */
export const RAW_KEY_BYTES = 32;

type Curve = 'X25519' | 'Ed25519';

// RFC 8410 DER headers of private keys, for the fallback; the raw key follows each directly.
// OID 1.3.101.110 is X25519, 1.3.101.112 Ed25519.
const PKCS8_PREFIX: Readonly<Record<Curve, Buffer>> = {
  X25519: Buffer.from('302e020100300506032b656e04220420', 'hex'),
  Ed25519: Buffer.from('302e020100300506032b657004220420', 'hex'),
};

function base64urlOf(raw: Uint8Array, what: string): string {
  if (!(raw instanceof Uint8Array) || raw.length !== RAW_KEY_BYTES) {
    throw new Error(
      `${what} must be ${RAW_KEY_BYTES} bytes, got ${raw instanceof Uint8Array ? raw.length : typeof raw}`,
    );
  }
  return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url');
}

function privateFromRaw(crv: Curve, raw: Uint8Array, what: string): KeyObject {
  const d = base64urlOf(raw, what);
  try {
    return createPrivateKey({ key: { kty: 'OKP', crv, d, x: '' }, format: 'jwk' });
  } catch {
    return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX[crv], raw]), format: 'der', type: 'pkcs8' });
  }
}

function publicFromRaw(crv: Curve, raw: Uint8Array, what: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv, x: base64urlOf(raw, what) }, format: 'jwk' });
}

/** An X25519 private key from its raw 32-byte scalar (clamping is X25519's job, not the caller's). */
export function x25519PrivateFromRaw(raw: Uint8Array): KeyObject {
  return privateFromRaw('X25519', raw, 'X25519 private key');
}

/** An X25519 public key from its raw 32-byte u-coordinate. */
export function x25519PublicFromRaw(raw: Uint8Array): KeyObject {
  return publicFromRaw('X25519', raw, 'X25519 public key');
}

/** An Ed25519 private key from its 32-byte seed (RFC 8032 §5.1.5: the seed is the private key). */
export function ed25519PrivateFromSeed(seed: Uint8Array): KeyObject {
  return privateFromRaw('Ed25519', seed, 'Ed25519 seed');
}

/** An Ed25519 public key from its raw 32-byte encoded point. */
export function ed25519PublicFromRaw(raw: Uint8Array): KeyObject {
  return publicFromRaw('Ed25519', raw, 'Ed25519 public key');
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
