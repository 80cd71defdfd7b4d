/**
 * src/core/spa/ed25519-point.ts: its two curve constants are what RFC 8032 defines them to be,
 * and it accepts real public keys and refuses the identity, the other small-order points it can
 * meet, non-canonical encodings and points off the curve.
 */

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { D, SQRT_M1, ed25519PublicKeyProblem, power } from '../../src/core/spa/ed25519-point.js';

const P = 2n ** 255n - 19n;
const mod = (a: bigint): bigint => ((a % P) + P) % P;
const littleEndian = (v: bigint, signBit = 0): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  out[31] = (out[31] as number) | (signBit << 7);
  return out;
};

describe('Ed25519 public key checks', () => {
  it('d and sqrt(-1) are the constants of RFC 8032', () => {
    assert.equal(mod(D * 121666n), mod(-121665n));
    assert.equal(SQRT_M1, power(2n, (P - 1n) / 4n));
    assert.equal(mod(SQRT_M1 * SQRT_M1), P - 1n);
  });

  it('accepts real keys', () => {
    for (let i = 0; i < 20; i++) {
      const x = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string;
      assert.equal(ed25519PublicKeyProblem(Buffer.from(x, 'base64url')), null);
    }
  });

  it('refuses the identity, the point of order two, non-canonical encodings and bad lengths', () => {
    assert.equal(ed25519PublicKeyProblem(littleEndian(1n)), 'small-order'); // (0, 1): the identity
    assert.equal(ed25519PublicKeyProblem(littleEndian(P - 1n)), 'small-order'); // (0, -1): order 2
    assert.equal(ed25519PublicKeyProblem(littleEndian(1n, 1)), 'non-canonical'); // x = 0 with the sign bit
    assert.equal(ed25519PublicKeyProblem(littleEndian(P + 1n)), 'non-canonical'); // y >= p
    assert.equal(ed25519PublicKeyProblem(new Uint8Array(31)), 'not-32-bytes');
  });
});
