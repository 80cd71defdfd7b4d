/**
 * src/core/spa/keys.ts imports raw keys as JWK, a private key with an empty `x` (node reads only
 * `d` for an OKP private key). These tests hold that to what it must mean on the Node line they run
 * on (CI runs them on 20, 22 and 24): the key made is exactly the key the DER form (RFC 8410) makes,
 * for both curves, private and public, and it signs, verifies and agrees as that key does.
 */

import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, diffieHellman, randomBytes, sign, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ed25519PrivateFromSeed,
  ed25519PublicFromRaw,
  rawPublicOf,
  x25519PrivateFromRaw,
  x25519PublicFromRaw,
} from '../../src/core/spa/keys.js';

/** The RFC 8410 DER form of a raw key: the fixed header, then the 32 bytes. */
function fromDer(header: string, raw: Uint8Array, kind: 'private' | 'public') {
  const key = Buffer.concat([Buffer.from(header, 'hex'), raw]);
  return kind === 'private'
    ? createPrivateKey({ key, format: 'der', type: 'pkcs8' })
    : createPublicKey({ key, format: 'der', type: 'spki' });
}
const der = {
  x25519Private: (raw: Uint8Array) => fromDer('302e020100300506032b656e04220420', raw, 'private'),
  x25519Public: (raw: Uint8Array) => fromDer('302a300506032b656e032100', raw, 'public'),
  ed25519Private: (raw: Uint8Array) => fromDer('302e020100300506032b657004220420', raw, 'private'),
  ed25519Public: (raw: Uint8Array) => fromDer('302a300506032b6570032100', raw, 'public'),
};
const pkcs8 = (k: ReturnType<typeof createPrivateKey>) => k.export({ format: 'der', type: 'pkcs8' });
const spki = (k: ReturnType<typeof createPublicKey>) => k.export({ format: 'der', type: 'spki' });
const raw32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('raw keys imported as JWK are the keys their DER form makes', () => {
  it('X25519 private keys: same key, same public key, same shared secret', () => {
    fc.assert(
      fc.property(raw32, raw32, (mine, theirs) => {
        const k = x25519PrivateFromRaw(mine);
        assert.equal(k.asymmetricKeyType, 'x25519');
        assert.deepEqual(pkcs8(k), pkcs8(der.x25519Private(mine)));
        assert.deepEqual(rawPublicOf(k), rawPublicOf(der.x25519Private(mine)));
        const peer = rawPublicOf(x25519PrivateFromRaw(theirs));
        assert.deepEqual(
          diffieHellman({ privateKey: k, publicKey: x25519PublicFromRaw(peer) }),
          diffieHellman({ privateKey: der.x25519Private(mine), publicKey: der.x25519Public(peer) }),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('Ed25519 private keys from a seed: same key; its signatures verify under the DER public key', () => {
    fc.assert(
      fc.property(raw32, fc.uint8Array({ maxLength: 200 }), (seed, message) => {
        const k = ed25519PrivateFromSeed(seed);
        assert.equal(k.asymmetricKeyType, 'ed25519');
        assert.deepEqual(pkcs8(k), pkcs8(der.ed25519Private(seed)));
        const pub = rawPublicOf(k);
        assert.deepEqual(pub, rawPublicOf(der.ed25519Private(seed)));
        const signature = sign(null, message, k);
        assert.deepEqual(signature, sign(null, message, der.ed25519Private(seed)), 'Ed25519 signing is deterministic');
        assert.ok(verify(null, message, der.ed25519Public(pub), signature));
        assert.ok(verify(null, message, ed25519PublicFromRaw(pub), signature));
      }),
      { numRuns: 100 },
    );
  });

  it('public keys: the same SPKI as the DER form, for any 32 bytes the DER form takes', () => {
    for (let i = 0; i < 100; i++) {
      const raw = randomBytes(32);
      assert.deepEqual(spki(x25519PublicFromRaw(raw)), spki(der.x25519Public(raw)));
      let viaDer: Buffer | undefined;
      try {
        viaDer = spki(der.ed25519Public(raw));
      } catch {
        // not every 32 bytes is an Ed25519 point OpenSSL takes: then neither form may
      }
      if (viaDer === undefined) assert.throws(() => ed25519PublicFromRaw(raw));
      else assert.deepEqual(spki(ed25519PublicFromRaw(raw)), viaDer);
    }
  });

  it('a key of the wrong length is refused, naming what it is', () => {
    assert.throws(() => x25519PrivateFromRaw(new Uint8Array(31)), /X25519 private key must be 32 bytes, got 31/);
    assert.throws(() => ed25519PrivateFromSeed(new Uint8Array(33)), /Ed25519 seed must be 32 bytes, got 33/);
    assert.throws(() => ed25519PublicFromRaw(new Uint8Array(0)), /Ed25519 public key must be 32 bytes, got 0/);
  });
});
