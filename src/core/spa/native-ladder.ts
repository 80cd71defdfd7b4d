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
 * Contract: never throws on datagram bytes; every datagram ends in exactly one SpaRejectReason or
 * one grant. Pure: the clocks are arguments, the allowance's state is passed in.
 */

import type { Door, SpaClient } from '../door.js';
import { checkFreshness, replayExpiryMs } from '../freshness.js';
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
import type { SpaServerKeys } from './native-door-keys.js';
import { decideSpaGrant } from './policy.js';
import { SPA_REPLAY_REASONS, replayRefusal } from './replay-rung.js';
import { admitUnprovenWork, type WorkAllowance } from './work-admission.js';

/** What conclude() needs of an authenticated, fresh datagram. */
export interface NativePending {
  readonly client: SpaClient;
  readonly request: SpaRequest;
  readonly source: IPAddressBytes;
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

  constructor(
    private readonly door: Door,
    private readonly keys: SpaServerKeys,
    /** The freshness window, ms: fresh when |now - timestamp| < window. */
    private readonly freshnessMs: number,
  ) {
    this.clients = new Map((door.spa?.clients ?? []).map((c) => [c.idHex, c]));
  }

  /** Rungs 1–7. `unixMs`: wall clock (packet timestamps are wall-clock); `monoMs`: the allowance's clock. */
  check(d: SpaDatagram, unixMs: number, monoMs: number, allowance: WorkAllowance): NativeStep {
    const frame = spaFrameProblem(d.payload, this.keys);
    if (frame !== null) return ladderReject(frame);
    if (!admitUnprovenWork(allowance, d.sourceText, monoMs)) return ladderReject('spa-overload');
    const opened = openSpaSealed(d.payload, this.keys, this.lookup);
    if (!opened.ok) return ladderReject(opened.reason);
    const { client, request } = opened;
    const freshness = checkFreshness(request.timestampMs, unixMs, this.freshnessMs);
    if (!freshness.fresh)
      return ladderReject('spa-stale', client.name, `clock skew ${Math.round(freshness.skewMs / 1000)}s`);
    return {
      kind: 'needs-replay-check',
      replay: {
        key: opened.replayKey,
        expiresAtMs: replayExpiryMs(request.timestampMs, this.freshnessMs),
        owner: { id: client.idHex, timestampMs: request.timestampMs },
      },
      who: client.name,
      pending: { client, request, source: d.source },
    };
  }

  /** Rungs 8 (the replay outcome) and 9 (the policy). */
  conclude(step: NeedsReplayCheck<NativePending>, outcome: ReplayOutcome): LadderFinal<SpaRejectReason> {
    const { client, request, source } = step.pending;
    const refusal = replayRefusal(SPA_REPLAY_REASONS, outcome);
    if (refusal !== null) return ladderReject(refusal, client.name);
    const decision = decideSpaGrant(this.door, client, request, source);
    if (!decision.ok) return ladderReject(decision.reason, client.name, decision.detail);
    const { source: granted, family, endpoints, durationS } = decision;
    return {
      kind: 'grant',
      who: client.name,
      grant: { source: granted, family, endpoints, durationS, client: client.name },
    };
  }
}
