/**
 * The native SPA ladder of one door (docs/protocol.md), as pure steps. check() takes rungs 1–7:
 * length and MAC1, the work allowance for what follows (core/spa/work-admission.ts), decryption,
 * client, authentication, body (core/spa/native-wire.ts), then freshness against the wall clock
 * (core/freshness.ts); it ends with a reject or with "needs a replay check" (hex(client id) +
 * hex(nonce), expiring at timestamp + window + margin, owned by the client). The daemon takes that
 * check against its replay store and hands the outcome to conclude(), which names a refusal
 * (core/spa/replay-rung.ts) or applies the policy (rung 9, core/spa/policy.ts) and returns the
 * grant. The nonce is recorded before the policy is asked, so a request the policy refuses cannot
 * be retried by anyone within its window either.
 *
 *
 * Key rotation: with a previous server key (core/spa/native-door-keys.ts PreviousServerKeys), a
 * datagram whose MAC1 fails under the current key is tried under the previous one, at MAC1 only.
 * Under it, before `untilUnixMs` it goes on through the same rungs with the previous key's DH and
 * door context, each client authenticating with its `previous` secret if it has one, and every
 * outcome is marked `serverKey: 'previous'`; from `untilUnixMs` on it ends at once as
 * `spa-retired-key`. So junk costs at most two HMACs (the cheap rung doubled), and a datagram
 * never gets more than one key agreement, whichever key it was made for.
 *
 * Contract: never throws on datagram bytes; every datagram ends in exactly one SpaRejectReason or
 * one grant. Pure: the clocks are arguments, the allowance's state is passed in.
 */

import type { Door, SpaClient } from '../door.js';
import { checkFreshness, describeSkew, replayExpiryMs } from '../freshness.js';
import type { IPAddressBytes } from '../ip-address.js';
import type { SpaRejectReason } from '../reasons.js';
import {
  ladderReject,
  type LadderFinal,
  type LadderStep,
  type NeedsReplayCheck,
  type ReplayOutcome,
} from './ladder-step.js';
import { openSpaSealed } from './native-wire.js';
import { spaFrameProblem } from './native-frame.js';
import type { SpaRequest } from './native-request.js';
import type { OldServerKeyUse, PreviousServerKeys, SpaServerKeys } from './native-door-keys.js';
import { decideSpaGrant } from './policy.js';
import { SPA_REPLAY_REASONS, replayRefusal } from './replay-rung.js';
import { admitUnprovenWork, type WorkAllowance } from './work-admission.js';

/** What conclude() needs of an authenticated, fresh datagram. */
export interface NativePending {
  readonly client: SpaClient;
  readonly request: SpaRequest;
  readonly source: IPAddressBytes;
  /** Set when the datagram was made for the previous server key. */
  readonly serverKey?: OldServerKeyUse;
}

export type NativeStep = LadderStep<SpaRejectReason, NativePending>;

/** One datagram as the daemon received it. */
export interface SpaDatagram {
  readonly payload: Uint8Array;
  readonly source: IPAddressBytes;
  /** `source` in canonical text (formatIPAddress): the key of the known-source allowance. */
  readonly sourceText: string;
}

export class NativeLadder {
  private readonly clients: Map<string, SpaClient>;
  private readonly lookup = (hex: string): SpaClient | undefined => this.clients.get(hex);
  /** Under the previous key: each client with its `previous` secret when it has one. */
  private readonly previousClients: Map<string, SpaClient>;
  private readonly previousLookup = (hex: string): SpaClient | undefined => this.previousClients.get(hex);

  constructor(
    private readonly door: Door,
    private readonly keys: SpaServerKeys,
    /** The freshness window, ms: fresh when |now - timestamp| < window. */
    private readonly freshnessMs: number,
    /** Key rotation: the previous server key and the end of its overlap; null without one. */
    private readonly previous: PreviousServerKeys | null = null,
  ) {
    const clients = door.spa?.clients ?? [];
    this.clients = new Map(clients.map((c) => [c.idHex, c]));
    this.previousClients = new Map(
      clients.map((c) => [c.idHex, c.previous ? { ...c, psk: undefined, publicKey: undefined, ...c.previous } : c]),
    );
  }

  /** Rungs 1–7. `unixMs`: wall clock (packet timestamps are wall-clock); `monoMs`: the allowance's clock. */
  check(d: SpaDatagram, unixMs: number, monoMs: number, allowance: WorkAllowance): NativeStep {
    let keys = this.keys;
    let lookup = this.lookup;
    let serverKey: OldServerKeyUse | undefined;
    const frame = spaFrameProblem(d.payload, this.keys);
    if (frame === 'spa-mac1' && this.previous !== null && spaFrameProblem(d.payload, this.previous.keys) === null) {
      if (unixMs >= this.previous.untilUnixMs)
        return ladderReject('spa-retired-key', undefined, 'made for the previous server key', 'retired');
      keys = this.previous.keys;
      lookup = this.previousLookup;
      serverKey = 'previous';
    } else if (frame !== null) return ladderReject(frame);
    if (!admitUnprovenWork(allowance, d.sourceText, monoMs))
      return ladderReject('spa-overload', undefined, undefined, serverKey);
    const opened = openSpaSealed(d.payload, keys, lookup);
    if (!opened.ok) return ladderReject(opened.reason, undefined, undefined, serverKey);
    const { client, request } = opened;
    const freshness = checkFreshness(request.timestampMs, unixMs, this.freshnessMs);
    if (!freshness.fresh) return ladderReject('spa-stale', client.name, describeSkew(freshness.skewMs), serverKey);
    return {
      kind: 'needs-replay-check',
      replay: {
        key: opened.replayKey,
        expiresAtMs: replayExpiryMs(request.timestampMs, this.freshnessMs),
        owner: { id: client.idHex, timestampMs: request.timestampMs },
      },
      who: client.name,
      pending: { client, request, source: d.source, ...(serverKey ? { serverKey } : {}) },
      ...(serverKey ? { serverKey } : {}),
    };
  }

  /** Rungs 8 (the replay outcome) and 9 (the policy). */
  conclude(step: NeedsReplayCheck<NativePending>, outcome: ReplayOutcome): LadderFinal<SpaRejectReason> {
    const { client, request, source, serverKey } = step.pending;
    const refusal = replayRefusal(SPA_REPLAY_REASONS, outcome);
    if (refusal !== null) return ladderReject(refusal, client.name, undefined, serverKey);
    const decision = decideSpaGrant(this.door, client, request, source);
    if (!decision.ok) return ladderReject(decision.reason, client.name, decision.detail, serverKey);
    const { source: granted, family, endpoints, durationS } = decision;
    return {
      kind: 'grant',
      who: client.name,
      grant: { source: granted, family, endpoints, durationS, client: client.name },
      ...(serverKey ? { serverKey } : {}),
    };
  }
}
