/**
 * The fwknop-compatible ladder of one door (fwknopd's semantics, knockgate's order), as pure steps:
 *
 *   beforeCrypto()  1. length, prefix and alphabet (core/spa/fwknop-frame.ts);
 *                   2. the stanzas whose SOURCE (and DESTINATION) match the packet (an index, not
 *                      a scan); an unknown destination matches only DESTINATION ANY (fail closed);
 *                   3. the work allowance: one HMAC per distinct HMAC key the packet must be tried
 *                      against (core/spa/work-admission.ts, `fwknop-overload` when spent);
 *                   then "needs a digest lookup": the packet's SHA-256 (fwknopd's digest), which the
 *                   daemon looks up in its replay store's local cache before any HMAC, so that a
 *                   flood of one captured packet costs one hash (after the allowance, so that junk
 *                   it sheds costs no digest either);
 *   open()          4. HMAC, decryption, inner digest, first stanza in file order that opens
 *                      (core/spa/fwknop-stanza-open.ts);
 *                   5. freshness, ACCESS_EXPIRE, REQUIRE_USERNAME, message type
 *                      (core/spa/fwknop-message-checks.ts);
 *                   6. the access message against the stanza and the door
 *                      (core/spa/fwknop-access-policy.ts);
 *                   then "needs a replay check": the digest, expiring at timestamp + window + margin,
 *                   owned by the stanza;
 *   conclude()      7. the replay outcome (core/spa/replay-rung.ts), then the grant.
 *
 * A GnuPG-sized packet (core/spa/fwknop-gpg.ts) takes the same rungs with the stanzas that have
 * GnuPG settings, except that open() does the HMACs and then asks for gpg runs
 * (core/spa/fwknop-gpg-rung.ts); the daemon admits each (admitGpg) and hands its result to
 * afterGpg(), which takes rungs 5 and 6 as open() does.
 *
 * Contract: never throws on packet bytes; every datagram ends in exactly one FwknopRejectReason or
 * one grant. Pure: clocks are arguments, the allowance's state is passed in.
 */

import { createHash } from 'node:crypto';
import { cidrSetContains } from '../cidr.js';
import type { Door, FwknopStanza } from '../door.js';
import { PROTOCOL_NUMBER, type Endpoint } from '../endpoint.js';
import { replayExpiryMs } from '../freshness.js';
import { formatIPAddress, parseIPAddress, type IPAddressBytes } from '../ip-address.js';
import type { FwknopRejectReason } from '../reasons.js';
import { decideFwknopAccess, type FwknopAccessDecision } from './fwknop-access-policy.js';
import type { CmdCycleFacts } from './fwknop-cmd-cycle.js';
import { decideFwknopCommand, type FwknopCommand, type FwknopCommandDecision } from './fwknop-command-message.js';
import { fwknopMessageRefusal } from './fwknop-message-checks.js';
import { FwknopStanzaIndex } from './fwknop-stanza-index.js';
import { FwknopStanzaKeys, openForStanzas } from './fwknop-stanza-open.js';
import { fwknopGpgFrameProblem, type GpgDecryptResult, isFwknopGpgLength } from './fwknop-gpg.js';
import {
  admitGpgRun,
  type GpgAllowance,
  type GpgTrial,
  gpgTrials,
  type NeedsGpgDecrypt,
  openAfterGpg,
} from './fwknop-gpg-rung.js';
import type { FwknopStanzaOpening } from './fwknop-stanza-open.js';
import { FWKNOP_MESSAGE_TYPE, fwknopFrameProblem, fwknopReplayDigestHex } from './fwknop-wire.js';
import {
  ladderReject,
  type LadderFinal,
  type LadderReject,
  type LadderStep,
  type NeedsReplayCheck,
  type ReplayOutcome,
} from './ladder-step.js';
import type { SpaDatagram } from './native-ladder.js';
import { FWKNOP_REPLAY_REASONS, replayRefusal } from './replay-rung.js';
import { admitUnprovenWork, type WorkAllowance } from './work-admission.js';

export interface FwknopDatagram extends SpaDatagram {
  /**
   * Where the packet was sent, as the socket or capture gives it (undefined: it could not say).
   * Parsed only past the frame checks: junk costs no parse.
   */
  readonly destinationText?: string;
}

/** Past the rungs before any key: the digest to look up, and the stanzas to try. */
export interface NeedsDigestLookup {
  readonly kind: 'needs-digest-lookup';
  /** Lower-case hex SHA-256 of the packet as received: the replay key. */
  readonly digest: string;
  readonly candidates: readonly number[];
}

export type FwknopPrecheck = LadderReject<FwknopRejectReason> | NeedsDigestLookup;

/** What conclude() needs of a packet a stanza opened and the policy allowed. */
export interface FwknopPending {
  readonly stanza: FwknopStanza;
  readonly address: IPAddressBytes;
  readonly endpoints: readonly Endpoint[];
  readonly durationS: number;
  /** Set for a stanza with a command cycle: what its variables stand for. */
  readonly cmdCycleFacts: CmdCycleFacts | null;
  /** Set for a command message the stanza lets run. */
  readonly command: FwknopCommand | null;
}

export type FwknopStep = LadderStep<FwknopRejectReason, FwknopPending>;

/**
 * The replay owner of a stanza (its high-water mark, core/replay-window.ts): a digest of where it
 * is defined, which names it across restarts without putting any key material in the journal.
 */
export function stanzaOwnerId(stanza: FwknopStanza): string {
  return createHash('sha256').update(`fwknop-stanza\0${stanza.origin}`).digest('hex').slice(0, 32);
}

export class FwknopLadder {
  private readonly stanzas: readonly FwknopStanza[];
  private readonly index: FwknopStanzaIndex;
  private readonly keys = new FwknopStanzaKeys();
  /** Whether any stanza has GnuPG settings (else GnuPG-sized packets are refused by their length). */
  readonly hasGpg: boolean;

  /** `door` must have fwknop settings; `freshnessMs`: the freshness window. */
  constructor(
    private readonly door: Door,
    private readonly freshnessMs: number,
  ) {
    this.stanzas = door.fwknop?.stanzas ?? [];
    this.index = new FwknopStanzaIndex(this.stanzas);
    this.hasGpg = this.stanzas.some((s) => s.gpg);
  }

  /** Rungs 1–3; `monoMs`: the allowance's clock. */
  beforeCrypto(d: FwknopDatagram, monoMs: number, allowance: WorkAllowance): FwknopPrecheck {
    // GnuPG-sized packets only where a stanza has GnuPG settings: elsewhere they stay too long.
    const gpg = this.hasGpg && d.payload instanceof Uint8Array && isFwknopGpgLength(d.payload.length);
    const frame = gpg ? fwknopGpgFrameProblem(d.payload) : fwknopFrameProblem(d.payload);
    if (frame !== null) return ladderReject(frame); // no key changes these
    const destination = d.destinationText === undefined ? null : parseIPAddress(d.destinationText);
    const candidates = this.index.candidates(d.source).filter((i) => {
      const st = this.stanzas[i] as FwknopStanza;
      if (gpg ? !st.gpg : st.key.length === 0) return false;
      const dst = st.destinations;
      return dst.any || (destination !== null && cidrSetContains(dst, destination));
    });
    if (candidates.length === 0) return ladderReject('fwknop-no-stanza');
    const hmacs = new Set<number>();
    for (const i of candidates) hmacs.add(this.index.groupOf(i));
    if (!admitUnprovenWork(allowance, d.sourceText, monoMs, hmacs.size)) return ladderReject('fwknop-overload');
    return { kind: 'needs-digest-lookup', digest: fwknopReplayDigestHex(d.payload), candidates };
  }

  /** Rungs 4–6, for a packet whose digest the local replay cache did not hold; `unixMs`: the wall clock. */
  open(d: FwknopDatagram, pre: NeedsDigestLookup, unixMs: number): FwknopStep | NeedsGpgDecrypt {
    if (this.hasGpg && isFwknopGpgLength(d.payload.length)) {
      const trials = gpgTrials(d.payload, this.stanzas, pre.candidates);
      return trials.kind === 'reject' ? ladderReject(trials.reason) : trials;
    }
    return this.decide(d, pre, openForStanzas(d.payload, this.stanzas, pre.candidates, this.index, this.keys), unixMs);
  }

  /** Whether one more gpg run may start for this datagram (GpgAllowance); the caller ends it with `runs.active--`. */
  admitGpg(d: FwknopDatagram, monoMs: number, allowance: GpgAllowance): boolean {
    return admitGpgRun(allowance, d.sourceText, monoMs);
  }

  /** Rungs 4–6 after one gpg run of `trial`: a reject (perhaps another trial opens it), or the replay check. */
  afterGpg(
    d: FwknopDatagram,
    pre: NeedsDigestLookup,
    trial: GpgTrial,
    result: GpgDecryptResult,
    unixMs: number,
  ): FwknopStep {
    return this.decide(d, pre, openAfterGpg(this.stanzas, trial, result), unixMs);
  }

  private decide(d: FwknopDatagram, pre: NeedsDigestLookup, opened: FwknopStanzaOpening, unixMs: number): FwknopStep {
    if (!opened.ok) return ladderReject(opened.reason);
    const { stanza, message } = opened;
    const refusal = fwknopMessageRefusal(stanza, message, unixMs, this.freshnessMs);
    if (refusal !== null) return refusal;
    const cmd =
      message.messageType === FWKNOP_MESSAGE_TYPE.command ? decideFwknopCommand(stanza, message, d.source) : null;
    const access = cmd !== null ? commandAsAccess(cmd) : decideFwknopAccess(this.door, stanza, message, d.source);
    if (!access.ok) return ladderReject(access.reason, stanza.origin, access.detail);
    const timestampMs = message.timestamp * 1000;
    return {
      kind: 'needs-replay-check',
      replay: {
        key: pre.digest,
        expiresAtMs: replayExpiryMs(timestampMs, this.freshnessMs),
        owner: { id: stanzaOwnerId(stanza), timestampMs },
      },
      who: stanza.origin,
      pending: {
        stanza,
        address: access.address,
        endpoints: access.endpoints,
        durationS: access.durationS,
        cmdCycleFacts: stanza.cmdCycle ? cmdCycleFactsOf(d, access, message.timestamp) : null,
        command: cmd?.ok ? cmd.command : null,
      },
    };
  }

  /** Rung 7: the replay outcome, then the grant. */
  conclude(step: NeedsReplayCheck<FwknopPending>, outcome: ReplayOutcome): LadderFinal<FwknopRejectReason> {
    const { stanza, address, endpoints, durationS, cmdCycleFacts, command } = step.pending;
    const refusal = replayRefusal(FWKNOP_REPLAY_REASONS, outcome);
    if (refusal !== null) return ladderReject(refusal, stanza.origin);
    return {
      kind: 'grant',
      who: stanza.origin,
      grant: {
        source: formatIPAddress(address),
        family: address.family,
        // fwknopd opens no rule of its own for a stanza with a command cycle: its commands do.
        endpoints: stanza.cmdCycle && cmdCycleFacts ? [] : endpoints,
        durationS,
        client: stanza.origin,
        ...(stanza.forceNat ? { nat: stanza.forceNat } : {}),
        ...(stanza.cmdCycle && cmdCycleFacts ? { cmdCycle: { cycle: stanza.cmdCycle, facts: cmdCycleFacts } } : {}),
        ...(command !== null ? { command } : {}),
      },
    };
  }
}

/** What a command cycle's variables stand for: the first requested port (as fwknopd), the timeout. */
function cmdCycleFactsOf(
  d: FwknopDatagram,
  access: { readonly address: IPAddressBytes; readonly endpoints: readonly Endpoint[]; readonly durationS: number },
  timestampS: number,
): CmdCycleFacts {
  const first = access.endpoints[0];
  const destination = d.destinationText === undefined ? null : parseIPAddress(d.destinationText);
  return {
    source: formatIPAddress(access.address),
    packetSource: formatIPAddress(d.source),
    destination: destination === null ? null : formatIPAddress(destination),
    port: first?.port ?? -1,
    protocolNumber: first ? PROTOCOL_NUMBER[first.proto] : -1,
    timestampS,
    timeoutS: access.durationS,
  };
}

/** A command message's decision in the access decision's shape: no ports, one second (nothing is opened). */
function commandAsAccess(c: FwknopCommandDecision): FwknopAccessDecision {
  return c.ok ? { ok: true, address: c.address, endpoints: [], durationS: 1 } : c;
}
