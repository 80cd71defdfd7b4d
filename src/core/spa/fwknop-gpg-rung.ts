/**
 * The GnuPG rung of an fwknop door's ladder (core/spa/fwknop-ladder.ts): for a GnuPG-sized packet,
 * the candidate stanzas with GnuPG settings, their HMACs first (a stanza with an HMAC key whose HMAC
 * does not hold is never given to gpg), then the gpg runs to ask for: one per distinct GnuPG setup
 * (gpg, home, decryption key and passphrase), in file order, each with the stanzas that share it.
 * After a run, the stanzas of that setup in file order: the first whose signature rules
 * (core/spa/fwknop-gpg.ts) accept the packet and whose inner message parses wins.
 * Admission: a gpg run is the most expensive thing a packet can cost, so every run is admitted by
 * the GnuPG budget (after the source's own allowance) and a cap on runs at once.
 * Never throws on packet bytes. Pure: the state of the allowance is passed in.
 */

import type { FwknopStanza } from '../door.js';
import type { FwknopRejectReason } from '../reasons.js';
import {
  type FwknopGpgSettings,
  type GpgDecryptResult,
  type GpgHmac,
  gpgEncryptedChars,
  gpgHmacHolds,
  gpgHmacOf,
  gpgMessageBytes,
  gpgSignatureRefusal,
} from './fwknop-gpg.js';
import { parseFwknopPlaintext } from './fwknop-message.js';
import type { FwknopStanzaOpening } from './fwknop-stanza-open.js';
import { admitUnprovenWork, type WorkAllowance } from './work-admission.js';

/** One gpg run to ask for: the message (the packet up to its HMAC, "hQ" restored, decoded) and the stanzas it may open. */
export interface GpgTrial {
  readonly settings: FwknopGpgSettings;
  readonly message: Uint8Array;
  readonly stanzas: readonly number[];
}

export interface NeedsGpgDecrypt {
  readonly kind: 'needs-gpg-decrypt';
  readonly trials: readonly GpgTrial[];
}

/** The GnuPG budget: runs per second for sources without an allowance, and how many run at once. */
export interface GpgAllowance extends WorkAllowance {
  readonly runs: { active: number; readonly max: number };
}

/** Whether one more gpg run may start now for `source`; the caller decrements `runs.active` when it ends. */
export function admitGpgRun(allowance: GpgAllowance, source: string, nowMs: number): boolean {
  if (allowance.runs.active >= allowance.runs.max) return false;
  if (!admitUnprovenWork(allowance, source, nowMs)) return false;
  allowance.runs.active++;
  return true;
}

const hmacs = new WeakMap<FwknopStanza, GpgHmac | null>();
function hmacOf(stanza: FwknopStanza): GpgHmac | null {
  let h = hmacs.get(stanza);
  if (h === undefined) {
    h = stanza.hmacKey === null ? null : gpgHmacOf(stanza.hmacType, stanza.hmacKey);
    hmacs.set(stanza, h);
  }
  return h;
}

function setupKey(s: FwknopGpgSettings): string {
  const pw = s.decryptPassphrase === null ? '-' : Buffer.from(s.decryptPassphrase).toString('hex');
  return JSON.stringify([s.exe, s.homeDir, s.decryptId, pw]);
}

/** `candidates`: stanzas with GnuPG settings whose SOURCE and DESTINATION match, in file order. */
export function gpgTrials(
  payload: Uint8Array,
  stanzas: readonly FwknopStanza[],
  candidates: readonly number[],
): NeedsGpgDecrypt | { readonly kind: 'reject'; readonly reason: FwknopRejectReason } {
  const trials = new Map<string, { settings: FwknopGpgSettings; message: Uint8Array; stanzas: number[] }>();
  for (const i of candidates) {
    const st = stanzas[i] as FwknopStanza;
    const settings = st.gpg as FwknopGpgSettings;
    const hmac = hmacOf(st);
    if (hmac !== null && !gpgHmacHolds(payload, hmac)) continue;
    // Stanzas with and without an HMAC see different messages: the setup key includes the length.
    const chars = gpgEncryptedChars(payload, hmac);
    const key = `${setupKey(settings)}:${chars}`;
    const t = trials.get(key);
    if (t !== undefined) t.stanzas.push(i);
    else trials.set(key, { settings, message: gpgMessageBytes(payload, chars), stanzas: [i] });
  }
  if (trials.size === 0) return { kind: 'reject', reason: 'fwknop-hmac' };
  return { kind: 'needs-gpg-decrypt', trials: [...trials.values()] };
}

/** How far a GnuPG refusal got, to report the deepest over the trials. */
export const GPG_DEPTH: Readonly<Partial<Record<FwknopRejectReason, number>>> = {
  'fwknop-hmac': 1,
  'fwknop-gpg-failed': 2,
  'fwknop-decrypt': 3,
  'fwknop-gpg-unsigned': 4,
  'fwknop-gpg-bad-signature': 5,
  'fwknop-gpg-signer': 6,
  'fwknop-malformed': 7,
  'fwknop-digest': 8,
};

/** After one gpg run: the first stanza of the trial that opens the packet, or the deepest reason. */
export function openAfterGpg(
  stanzas: readonly FwknopStanza[],
  trial: GpgTrial,
  result: GpgDecryptResult,
): FwknopStanzaOpening {
  if (result.kind === 'failed') return { ok: false, reason: 'fwknop-gpg-failed' };
  if (result.kind === 'not-decrypted') return { ok: false, reason: 'fwknop-decrypt' };
  let reason: FwknopRejectReason = 'fwknop-decrypt';
  for (const i of trial.stanzas) {
    const stanza = stanzas[i] as FwknopStanza;
    const refusal = gpgSignatureRefusal(stanza.gpg as FwknopGpgSettings, result.signature);
    if (refusal !== null) {
      if ((GPG_DEPTH[refusal] ?? 0) >= (GPG_DEPTH[reason] ?? 0)) reason = refusal;
      continue;
    }
    const parsed = parseFwknopPlaintext(Buffer.from(result.plaintext).toString('latin1'));
    if (parsed.ok) return { ok: true, stanza, message: parsed.message };
    if ((GPG_DEPTH[parsed.reason] ?? 0) >= (GPG_DEPTH[reason] ?? 0)) reason = parsed.reason;
  }
  return { ok: false, reason };
}
