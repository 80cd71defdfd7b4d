/**
 * The client's proof inside a native SPA datagram (docs/protocol.md, steps 5 and rung 5): an
 * HMAC-SHA256 under the client's pre-shared key, or an Ed25519 signature, over the transcript
 * LABEL || context || E' || cid || body. The context binds it to one server key and one door, E'
 * to this datagram. In mode ssh-ed25519 (a key held by ssh-agent) the Ed25519 signature covers
 * the SSHSIG wrapper of the transcript under the namespace knockgate-spa@v1 (core/ssh/sshsig.ts),
 * never the transcript itself: what an agent signs for knockgate proves nothing elsewhere, and
 * what it signs elsewhere proves nothing here.
 *
 * Contract: clientAuthTag throws on a bad local secret; authenticates never throws (a configured
 * key of the wrong type authenticates nothing) and compares HMACs in constant time.
 */

import { createHmac, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { SPA_SSHSIG_NAMESPACE, sshsigSignedData } from '../ssh/sshsig.js';
import { requireBytes } from './byte-checks.js';

const LABEL = Buffer.from('knockgate-spa-v2', 'ascii');
const PSK_BYTES = 32;

/** How a client proves itself: a psk, an Ed25519 key file, or an Ed25519 key in ssh-agent. */
export type ClientAuthMode = 'psk' | 'ed25519' | 'ssh-ed25519';

/**
 * The client's side of the secret, when it is at hand (an agent's key is not: its proof comes
 * from prepareSeal's two phases). `ssh-ed25519` with a local key is what the agent computes, for
 * vectors and tests.
 */
export type ClientAuthSecret =
  | { readonly mode: 'psk'; readonly psk: Uint8Array }
  | { readonly mode: 'ed25519' | 'ssh-ed25519'; readonly privateKey: KeyObject };

/** The server's side: what a door knows of one client, found by its 16-byte id. */
export interface SpaClientKey {
  readonly id: Uint8Array;
  readonly mode: ClientAuthMode;
  readonly psk?: Uint8Array;
  readonly publicKey?: KeyObject;
}

/** Length of the proof at the end of the plaintext, by mode: HMAC-SHA256, or an Ed25519 signature. */
export function authBytesOf(mode: ClientAuthMode): number {
  return mode === 'psk' ? 32 : 64;
}

/** The transcript (step 5): LABEL || context || E' || signed, where signed = cid || body. */
export function spaTranscript(context: Uint8Array, ePrime: Uint8Array, signed: Uint8Array): Buffer {
  return Buffer.concat([LABEL, context, ePrime, signed]);
}

/** What the proof covers: the transcript; in mode ssh-ed25519, its SSHSIG wrapper under knockgate-spa@v1. */
export function proofMessageOf(mode: ClientAuthMode, transcript: Uint8Array): Buffer {
  return mode === 'ssh-ed25519' ? sshsigSignedData(SPA_SSHSIG_NAMESPACE, transcript) : Buffer.from(transcript);
}

/** Step 5: the proof over `message` (proofMessageOf the secret's mode). */
export function clientAuthTag(secret: ClientAuthSecret, message: Uint8Array): Buffer {
  if (secret.mode === 'psk') {
    requireBytes(secret.psk, PSK_BYTES, 'psk');
    return createHmac('sha256', secret.psk).update(message).digest();
  }
  if (secret.privateKey.asymmetricKeyType !== 'ed25519' || secret.privateKey.type !== 'private')
    throw new Error('expected an Ed25519 private key');
  return sign(null, message, secret.privateKey);
}

/** Whether `signature` is `publicKey`'s Ed25519 signature over `message`; never throws. */
export function ed25519Verifies(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return signature.length === 64 && verify(null, message, publicKey, signature);
  } catch {
    return false; // e.g. a key of the wrong type: nothing can authenticate against it
  }
}

/** Rung 5: the client's HMAC (constant-time) or signature over proofMessageOf(client.mode, transcript). */
export function authenticates(
  client: SpaClientKey,
  context: Uint8Array,
  ePrime: Uint8Array,
  signed: Uint8Array,
  auth: Uint8Array,
): boolean {
  const message = proofMessageOf(client.mode, spaTranscript(context, ePrime, signed));
  if (client.mode !== 'psk') return client.publicKey !== undefined && ed25519Verifies(client.publicKey, message, auth);
  if (client.psk === undefined || auth.length !== 32) return false;
  try {
    return timingSafeEqual(createHmac('sha256', client.psk).update(message).digest(), auth);
  } catch {
    return false; // a configured psk of the wrong type
  }
}
