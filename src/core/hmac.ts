/**
 * HMAC (RFC 2104) from one-shot digests, for the checks that every hostile datagram pays for
 * (native SPA's MAC1, the fwknop HMAC).
 *
 * Why not createHmac: each call makes a native object that the garbage collector must finalise;
 * at 100k datagrams/s that alone produced 50 ms collector pauses, long enough to hold a
 * legitimate knock's grant behind a flood. crypto.hash() (Node >= 20.12) allocates only its
 * result. Same bytes as createHmac, checked in test/unit/small-parts.test.ts.
 *
 * Not re-entrant across awaits (one shared scratch buffer), which a synchronous call never is.
 */

import { hash } from 'node:crypto';

export type HmacAlgorithm = 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'sha3-256' | 'sha3-512';

/** Block sizes of the digests, in bytes (HMAC pads the key to one block). */
const BLOCK_BYTES: Readonly<Record<HmacAlgorithm, number>> = {
  md5: 64,
  sha1: 64,
  sha256: 64,
  sha384: 128,
  sha512: 128,
  'sha3-256': 136,
  'sha3-512': 72,
};

let scratch = Buffer.alloc(4096);

function room(bytes: number): Buffer {
  if (scratch.length < bytes) scratch = Buffer.alloc(Math.max(bytes, scratch.length * 2));
  return scratch;
}

export class HmacKey {
  private readonly ipad: Buffer;
  private readonly opad: Buffer;

  constructor(
    readonly algorithm: HmacAlgorithm,
    key: Uint8Array,
  ) {
    const block = BLOCK_BYTES[algorithm];
    const k = key.length > block ? hash(algorithm, key, 'buffer') : Buffer.from(key);
    this.ipad = Buffer.alloc(block, 0x36);
    this.opad = Buffer.alloc(block, 0x5c);
    for (let i = 0; i < k.length; i++) {
      this.ipad[i] = (this.ipad[i] as number) ^ (k[i] as number);
      this.opad[i] = (this.opad[i] as number) ^ (k[i] as number);
    }
  }

  /** HMAC of the concatenation of `parts`. */
  mac(...parts: readonly Uint8Array[]): Buffer {
    const block = this.ipad.length;
    let n = block;
    for (const p of parts) n += p.length;
    const s = room(n);
    this.ipad.copy(s, 0);
    let at = block;
    for (const p of parts) {
      s.set(p, at);
      at += p.length;
    }
    const inner = hash(this.algorithm, s.subarray(0, n), 'buffer');
    this.opad.copy(s, 0);
    inner.copy(s, block);
    return hash(this.algorithm, s.subarray(0, block + inner.length), 'buffer');
  }
}
