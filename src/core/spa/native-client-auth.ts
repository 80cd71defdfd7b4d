/**
 * The client's proof inside a native SPA datagram (docs/protocol.md, steps 5 and rung 5): an
 * HMAC-SHA256 under the client's pre-shared key, or an Ed25519 signature, over the transcript
 * LABEL || context || E' || cid || body. The context binds it to one server key and one door, E'
 * to this datagram.
 *
 * Contract: clientAuthTag throws on a bad local secret; authenticates never throws (a configured
 * key of the wrong type authenticates nothing) and compares HMACs in constant time.
 */

import { createHmac, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { requireBytes } from './byte-checks.js';

const LABEL = Buffer.from('knockgate-spa-v2', 'ascii');
const AUTH_BYTES = { psk: 32, ed25519: 64 } as const; // HMAC-SHA256, Ed25519 signature
const PSK_BYTES = 32;

/** The client's side of the secret. */
export type ClientAuthSecret =
  | { readonly mode: 'psk'; readonly psk: Uint8Array }
  | { readonly mode: 'ed25519'; readonly privateKey: KeyObject };

/** The server's side: what a door knows of one client, found by its 16-byte id. */
export interface SpaClientKey {
  readonly id: Uint8Array;
  readonly mode: 'psk' | 'ed25519';
  readonly psk?: Uint8Array;
  readonly publicKey?: KeyObject;
}

/** Length of the proof at the end of the plaintext, by mode. */
export function authBytesOf(mode: SpaClientKey['mode']): number {
  return mode === 'psk' ? AUTH_BYTES.psk : AUTH_BYTES.ed25519;
}

/** Step 5: the proof over LABEL || context || E' || signed, where signed = cid || body. */
export function clientAuthTag(
  secret: ClientAuthSecret,
  context: Uint8Array,
  ePrime: Uint8Array,
  signed: Uint8Array,
): Buffer {
  if (secret.mode === 'psk') {
    requireBytes(secret.psk, PSK_BYTES, 'psk');
    return createHmac('sha256', secret.psk).update(LABEL).update(context).update(ePrime).update(signed).digest();
  }
  if (secret.privateKey.asymmetricKeyType !== 'ed25519' || secret.privateKey.type !== 'private')
    throw new Error('expected an Ed25519 private key');
  return sign(null, Buffer.concat([LABEL, context, ePrime, signed]), secret.privateKey);
}

/** Rung 5: the client's HMAC (constant-time) or signature over LABEL || context || E' || cid || body. */
export function authenticates(
  client: SpaClientKey,
  context: Uint8Array,
  ePrime: Uint8Array,
  signed: Uint8Array,
  auth: Uint8Array,
): boolean {
  try {
    if (client.mode === 'psk') {
      if (client.psk === undefined) return false;
      const expected = createHmac('sha256', client.psk)
        .update(LABEL)
        .update(context)
        .update(ePrime)
        .update(signed)
        .digest();
      return timingSafeEqual(expected, auth);
    }
    if (client.publicKey === undefined) return false;
    return verify(null, Buffer.concat([LABEL, context, ePrime, signed]), client.publicKey, auth);
  } catch {
    return false; // e.g. a configured key of the wrong type: nothing can authenticate against it
  }
}
