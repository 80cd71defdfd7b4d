/**
 * Rung 2's crypto for an fwknop door: the candidate stanzas (those whose SOURCE and DESTINATION
 * match, core/spa/fwknop-stanza-index.ts) tried in file order, HMAC (once per distinct HMAC key),
 * decryption and the inner digest (core/spa/fwknop-wire.ts); the first stanza that opens the
 * packet wins. When none does, the reason reported is the rung the best stanza got to: a right
 * HMAC with a wrong key says more than the HMAC failures of the stanzas tried after it.
 * Never throws. Pure.
 */

import type { FwknopStanza } from '../door.js';
import type { FwknopRejectReason } from '../reasons.js';
import type { FwknopStanzaIndex } from './fwknop-stanza-index.js';
import { fwknopHmacHolds, openFwknop, type FwknopKeys, type FwknopMessage } from './fwknop-wire.js';

/** How far along the ladder a codec rejection is. */
const DEPTH: Readonly<Partial<Record<FwknopRejectReason, number>>> = {
  'fwknop-no-stanza': 0,
  'fwknop-malformed': 1,
  'fwknop-hmac': 2,
  'fwknop-decrypt': 3,
  'fwknop-digest': 4,
};

export type FwknopStanzaOpening =
  | { readonly ok: true; readonly stanza: FwknopStanza; readonly message: FwknopMessage }
  | { readonly ok: false; readonly reason: FwknopRejectReason };

/** One keys object per stanza, so that the prepared HMAC key (fwknop-frame.ts) is reused across packets. */
export class FwknopStanzaKeys {
  private readonly byStanza = new WeakMap<FwknopStanza, FwknopKeys>();

  of(stanza: FwknopStanza): FwknopKeys {
    let k = this.byStanza.get(stanza);
    if (k === undefined) {
      k = {
        key: stanza.key,
        hmacKey: stanza.hmacKey,
        hmacType: stanza.hmacType,
        encryptionMode: stanza.encryptionMode,
      };
      this.byStanza.set(stanza, k);
    }
    return k;
  }
}

/** `candidates`: indices into `stanzas`, in file order, none empty (the caller refuses an empty list as `fwknop-no-stanza`). */
export function openForStanzas(
  payload: Uint8Array,
  stanzas: readonly FwknopStanza[],
  candidates: readonly number[],
  index: FwknopStanzaIndex,
  keys: FwknopStanzaKeys,
): FwknopStanzaOpening {
  let lastReason: FwknopRejectReason = 'fwknop-no-stanza';
  const held = new Map<number, boolean>(); // HMAC group → whether the packet's HMAC holds for it
  for (const i of candidates) {
    const stanza = stanzas[i] as FwknopStanza;
    const k = keys.of(stanza);
    const g = index.groupOf(i);
    let holds = held.get(g);
    if (holds === undefined) {
      holds = fwknopHmacHolds(payload, k);
      held.set(g, holds);
    }
    const r = holds ? openFwknop(payload, k) : ({ ok: false, reason: 'fwknop-hmac' } as const);
    if (r.ok) return { ok: true, stanza, message: r.message };
    if ((DEPTH[r.reason] ?? 0) >= (DEPTH[lastReason] ?? 0)) lastReason = r.reason;
  }
  return { ok: false, reason: lastReason };
}
