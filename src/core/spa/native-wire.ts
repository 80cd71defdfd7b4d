/**
 * The knockgate SPA v2 datagram, exactly as docs/protocol.md specifies it: sealing (client) and
 * rungs 1–6 of the server's ladder (length, mac1, decrypt, unknown client, auth, malformed).
 * A datagram is bound to one server key and one door id (the door context, in the AEAD's associated
 * data and in what the client's HMAC or signature covers): a door refuses a packet sealed for
 * another door (`spa-wrong-door` when that door is one of its siblings under the same key,
 * `spa-decrypt` otherwise) and a v1 packet (`spa-old-version`); it never accepts either.
 * The parts live by concept beside it: native-frame.ts (the outer frame, length and MAC1),
 * native-door-keys.ts (the server's keys and the door context), native-aead.ts (key agreement and
 * the AEAD), native-client-auth.ts (the client's HMAC or signature), native-request.ts (the
 * plaintext request); this file composes them.
 *
 * Contract: openSpa never throws, whatever the bytes; every datagram ends in `ok` or exactly one
 * SpaRejectReason, the first failing rung. Freshness, replay and policy (rungs 7–9) need the clock,
 * a store and configuration, so they are the caller's. sealSpa throws on invalid local input.
 * Sealing has two phases, so that the proof may come from elsewhere (ssh-agent signs
 * asynchronously): prepareSeal fixes everything the proof covers and returns it (proofMessage);
 * finish(auth) seals with it. sealSpa is both phases with a secret at hand.
 * Pure: node:crypto computes, but randomness (ephemeral key, top bit, nonce) and the time are
 * arguments, so that docs/spa-vectors.json is reproducible.
 */

import { SPA_CLIENT_ID_BYTES } from '../limits.js';
import type { SpaRejectReason } from '../reasons.js';
import { requireBytes } from './byte-checks.js';
import { RAW_KEY_BYTES } from './keys.js';
import { openSealed, sealerKeys, sealPlaintext } from './native-aead.js';
import {
  authBytesOf,
  authenticates,
  clientAuthTag,
  proofMessageOf,
  spaTranscript,
  type ClientAuthMode,
  type ClientAuthSecret,
  type SpaClientKey,
} from './native-client-auth.js';
import { doorContext, type SpaServerKeys } from './native-door-keys.js';
import { frameSpa, spaFrameProblem } from './native-frame.js';
import { decodeSpaBody, encodeSpaBody, type SpaRequest } from './native-request.js';

export interface SealInput {
  readonly serverPublicKey: Uint8Array; // 32
  /** The door the packet is for (DOOR_ID_PATTERN): only a door with this id under this key opens it. */
  readonly doorId: string;
  readonly clientId: Uint8Array; // 16
  readonly secret: ClientAuthSecret;
  readonly request: SpaRequest;
  readonly ephemeralPrivate: Uint8Array; // 32 random bytes (X25519 private scalar, raw)
  readonly topBit: 0 | 1; // the random bit r
}
/** For tests and vectors only: seal arbitrary body bytes, valid or not. */
export type RawSealInput = Omit<SealInput, 'request'> & { readonly body: Uint8Array };
export type SpaOpenResult<C extends SpaClientKey> =
  | {
      readonly ok: true;
      readonly client: C;
      readonly request: SpaRequest;
      readonly replayKey: string /* hex(cid) + hex(nonce) */;
    }
  | { readonly ok: false; readonly reason: SpaRejectReason };

/** What prepareSeal needs: a seal's input with the proof's mode in place of the secret. */
export type PrepareSealInput = Omit<SealInput, 'secret'> & { readonly mode: ClientAuthMode };
export type PrepareRawSealInput = Omit<RawSealInput, 'secret'> & { readonly mode: ClientAuthMode };

/** A datagram waiting for its proof. */
export interface PreparedSeal {
  readonly mode: ClientAuthMode;
  /** LABEL || context || E' || cid || body (step 5). */
  readonly transcript: Uint8Array;
  /** What the proof covers (native-client-auth.ts proofMessageOf): sign or MAC exactly this. */
  readonly proofMessage: Uint8Array;
  /** Steps 6–8 with the proof (authBytesOf(mode) bytes; throws on another length): the datagram. */
  finish(auth: Uint8Array): Uint8Array;
}

/** Steps 1–4 around a body given as bytes. Exported for tests and vectors; use prepareSeal. */
export function prepareRawBody(input: PrepareRawSealInput): PreparedSeal {
  const { serverPublicKey, doorId, clientId, mode, body, ephemeralPrivate, topBit } = input;
  requireBytes(serverPublicKey, RAW_KEY_BYTES, 'server public key');
  const context = doorContext(serverPublicKey, doorId);
  requireBytes(clientId, SPA_CLIENT_ID_BYTES, 'client id');
  requireBytes(ephemeralPrivate, RAW_KEY_BYTES, 'ephemeral private key');
  if (topBit !== 0 && topBit !== 1) throw new Error('topBit must be 0 or 1');
  const agreed = sealerKeys(serverPublicKey, ephemeralPrivate, topBit);
  const signed = Buffer.concat([clientId, body]); // cid || body, the tail of the transcript
  const transcript = spaTranscript(context, agreed.ePrime, signed);
  return {
    mode,
    transcript,
    proofMessage: proofMessageOf(mode, transcript),
    finish(auth: Uint8Array): Uint8Array {
      requireBytes(auth, authBytesOf(mode), `${mode} proof`);
      const sealed = sealPlaintext(agreed, context, Buffer.concat([signed, auth]));
      return frameSpa(serverPublicKey, agreed.ePrime, sealed);
    },
  };
}

/** Encode the request and fix what the proof covers; finish() seals it. */
export function prepareSeal(input: PrepareSealInput): PreparedSeal {
  const { request, ...rest } = input;
  return prepareRawBody({ ...rest, body: encodeSpaBody(request) });
}

/** Steps 1–8 around a body given as bytes. Exported for tests and vectors; use sealSpa. */
export function sealRawBody(input: RawSealInput): Uint8Array {
  const { secret, ...rest } = input;
  const prepared = prepareRawBody({ ...rest, mode: secret.mode });
  return prepared.finish(clientAuthTag(secret, prepared.proofMessage));
}

/** The whole client side, with the secret at hand: encode the request, then seal it for the server. */
export function sealSpa(input: SealInput): Uint8Array {
  const { request, ...rest } = input;
  return sealRawBody({ ...rest, body: encodeSpaBody(request) });
}

function reject(reason: SpaRejectReason): { readonly ok: false; readonly reason: SpaRejectReason } {
  return { ok: false, reason };
}

/**
 * Rungs 3–6 (the expensive ones: key agreement, AEAD, the client's HMAC or signature, the body),
 * for a datagram spaFrameProblem passed. `lookup` maps hex(cid) to the door's client, in O(1).
 */
export function openSpaSealed<C extends SpaClientKey>(
  datagram: Uint8Array,
  keys: SpaServerKeys,
  lookup: (clientIdHex: string) => C | undefined,
): SpaOpenResult<C> {
  const plaintext = openSealed(datagram, keys);
  if (typeof plaintext === 'string') return reject(plaintext);

  const cidHex = plaintext.toString('hex', 0, SPA_CLIENT_ID_BYTES);
  const client = lookup(cidHex);
  if (client === undefined) return reject('spa-unknown-client');

  const authLen = authBytesOf(client.mode);
  // Unreachable at MIN_SPA_BYTES (81 plaintext bytes ≥ 16 + 64), kept so the slicing below is safe.
  if (plaintext.length < SPA_CLIENT_ID_BYTES + authLen) return reject('spa-auth');
  const signedEnd = plaintext.length - authLen;
  if (
    !authenticates(
      client,
      keys.context,
      datagram.subarray(0, RAW_KEY_BYTES),
      plaintext.subarray(0, signedEnd),
      plaintext.subarray(signedEnd),
    )
  ) {
    return reject('spa-auth');
  }

  const request = decodeSpaBody(plaintext.subarray(SPA_CLIENT_ID_BYTES, signedEnd));
  if (request === null) return reject('spa-malformed');
  return { ok: true, client, request, replayKey: cidHex + Buffer.from(request.nonce).toString('hex') };
}

/**
 * Rungs 1–6: spaFrameProblem, then `admitExpensive` (asked once MAC1 holds; false ends with
 * `spa-overload`), then openSpaSealed. The daemon takes the rungs one by one
 * (core/spa/native-ladder.ts); this is the whole opening for callers with no budget.
 */
export function openSpa<C extends SpaClientKey>(
  datagram: Uint8Array,
  keys: SpaServerKeys,
  lookup: (clientIdHex: string) => C | undefined,
  admitExpensive: () => boolean = () => true,
): SpaOpenResult<C> {
  const frame = spaFrameProblem(datagram, keys);
  if (frame !== null) return reject(frame);
  if (!admitExpensive()) return reject('spa-overload');
  return openSpaSealed(datagram, keys, lookup);
}
