/**
 * The outer frame of a native SPA datagram (docs/protocol.md): E' (32) || sealed || MAC1 (16), and
 * rungs 1–2 of the server's ladder, length and MAC1: the only work any datagram gets for nothing.
 * MAC1 is HMAC-SHA256 under SHA-256("knockgate-spa-v1/mac1" || S), truncated to 16 bytes, over
 * everything before it; it proves only that the sender knows the server's public key.
 *
 * Contract: spaFrameProblem never throws and allocates almost nothing, so that a flood of junk
 * costs one HMAC per packet.
 */

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { HmacKey } from '../hmac.js';
import { MAX_SPA_BYTES, MIN_SPA_BYTES } from '../limits.js';
import { RAW_KEY_BYTES } from './keys.js';

export const MAC1_BYTES = 16;
/** v1's, kept on purpose: a v1 packet passes MAC1 and is then named `spa-old-version`. */
const MAC1_KEY_PREFIX = Buffer.from('knockgate-spa-v1/mac1', 'ascii');

/** What the frame check needs of a server key set (SpaServerKeys has it). */
export interface Mac1Keyed {
  readonly mac1Key: Uint8Array;
}

/** The MAC1 key of a server public key S. */
export function mac1KeyOf(serverPublicKey: Uint8Array): Uint8Array {
  return createHash('sha256').update(MAC1_KEY_PREFIX).update(serverPublicKey).digest();
}

/** The MAC1 HMAC key of a server key set, prepared once (the check every datagram pays for). */
const mac1Hmacs = new WeakMap<Mac1Keyed, HmacKey>();
function mac1HmacOf(keys: Mac1Keyed): HmacKey {
  let h = mac1Hmacs.get(keys);
  if (h === undefined) {
    h = new HmacKey('sha256', keys.mac1Key);
    mac1Hmacs.set(keys, h);
  }
  return h;
}

/** The client's side: the whole datagram, E' || sealed || MAC1 under S's MAC1 key. */
export function frameSpa(serverPublicKey: Uint8Array, ePrime: Uint8Array, sealed: Uint8Array): Uint8Array {
  const out = Buffer.alloc(RAW_KEY_BYTES + sealed.length + MAC1_BYTES);
  out.set(ePrime, 0);
  out.set(sealed, RAW_KEY_BYTES);
  const mac1 = createHmac('sha256', mac1KeyOf(serverPublicKey))
    .update(out.subarray(0, out.length - MAC1_BYTES))
    .digest();
  out.set(mac1.subarray(0, MAC1_BYTES), out.length - MAC1_BYTES);
  return out;
}

/**
 * Rungs 1–2: length and MAC1 (constant-time). Null when the datagram may go on.
 */
export function spaFrameProblem(datagram: Uint8Array, keys: Mac1Keyed): 'spa-length' | 'spa-mac1' | null {
  const n = datagram.length;
  if (n < MIN_SPA_BYTES || n > MAX_SPA_BYTES) return 'spa-length';
  const macStart = n - MAC1_BYTES;
  const mac1 = mac1HmacOf(keys).mac(datagram.subarray(0, macStart));
  if (!timingSafeEqual(mac1.subarray(0, MAC1_BYTES), datagram.subarray(macStart))) return 'spa-mac1';
  return null;
}
