/**
 * A native SPA door's server-side key material (docs/protocol.md, "door context"): the X25519 key,
 * its MAC1 key, and the context S || u8(length of the door id) || door id that binds a datagram to
 * one server key and one door (it is in the AEAD's associated data and in what the client's HMAC or
 * signature covers). Derived once at start-up, never per packet.
 *
 * Contract: doorContext and serverKeysFromPrivate throw on a bad key or door id.
 */

import { requireBytes } from './byte-checks.js';
import { RAW_KEY_BYTES, rawPublicOf, x25519PrivateFromRaw } from './keys.js';
import type { KeyObject } from 'node:crypto';
import { mac1KeyOf } from './native-frame.js';

/** Door ids: what a door is called on the wire; the door's name unless configured (a fleet shares them). */
export const DOOR_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface SpaServerKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: Uint8Array;
  readonly mac1Key: Uint8Array;
  /** The door these keys open packets for, and its context S || u8(len) || door id. */
  readonly doorId: string;
  readonly context: Uint8Array;
  /** Other doors under the same key (this daemon's): only to name `spa-wrong-door`; never accepted. */
  readonly siblingContexts: readonly Uint8Array[];
}

/**
 * Key rotation: the server key before the current one, kept for an overlap so that clients can be
 * re-issued without a flag day. Its packets are recognised at MAC1 (rung 2) only after the current
 * key's MAC1 failed, so junk costs at most two HMACs and never more than one key agreement.
 */
export interface PreviousServerKeys {
  readonly keys: SpaServerKeys;
  /** Wall-clock Unix ms: packets under this key are accepted before it, refused (`spa-retired-key`) from it on. */
  readonly untilUnixMs: number;
}

/**
 * What a datagram was made for, when not the current key (closed list: a log field and a metric
 * label): `previous` during the overlap, `retired` after it.
 */
export const OLD_SERVER_KEY_USES = ['previous', 'retired'] as const;
export type OldServerKeyUse = (typeof OLD_SERVER_KEY_USES)[number];

/** The door context: S || u8(length of the door id) || door id (ASCII). Throws on a bad door id. */
export function doorContext(serverPublicKey: Uint8Array, doorId: string): Uint8Array {
  requireBytes(serverPublicKey, RAW_KEY_BYTES, 'server public key');
  if (typeof doorId !== 'string' || !DOOR_ID_PATTERN.test(doorId))
    throw new Error(`not a door id: ${JSON.stringify(doorId)} (1-64 letters, digits, "_", "." or "-")`);
  const id = Buffer.from(doorId, 'ascii');
  return Buffer.concat([serverPublicKey, Buffer.from([id.length]), id]);
}

/**
 * The server's key material for one door, derived once at start-up rather than per packet.
 * `siblingDoorIds`: the other doors this daemon serves under the same key, so that a packet meant
 * for one of them is named `spa-wrong-door` rather than `spa-decrypt`.
 */
export function serverKeysFromPrivate(
  raw: Uint8Array,
  doorId: string,
  siblingDoorIds: readonly string[] = [],
): SpaServerKeys {
  const privateKey = x25519PrivateFromRaw(raw);
  const publicKey = rawPublicOf(privateKey);
  const siblingContexts = [...new Set(siblingDoorIds)]
    .filter((d) => d !== doorId)
    .map((d) => doorContext(publicKey, d));
  return {
    privateKey,
    publicKey,
    mac1Key: mac1KeyOf(publicKey),
    doorId,
    context: doorContext(publicKey, doorId),
    siblingContexts,
  };
}
