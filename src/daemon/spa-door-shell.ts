/**
 * What the native SPA and fwknop handlers share around their ladders (core/spa/native-ladder.ts,
 * core/spa/fwknop-ladder.ts): the one reject path (a counter per reason, a log line rate-limited
 * per reason) and the one way from "needs a replay check" to a grant (the store's check-and-record,
 * the ladder's final decision, then the accepted line, the known source, the grant). Every
 * datagram a handler is given ends here in exactly one counted outcome; nothing goes back on the
 * wire. Log lines are per door kind (`spa …` / `fwknop …`); the counters are the door's own
 * (metrics/daemon-metrics.ts: datagrams, accepted, rejected by reason), resolved at start.
 */

import type { Door } from '../core/door.js';
import type { SpaDoorRejectReason } from '../core/reasons.js';
import type { LadderFinal, NeedsReplayCheck, ReplayOutcome, SpaGrant } from '../core/spa/ladder-step.js';
import type { KnownSources } from '../core/known-sources.js';
import type { OldServerKeyUse } from '../core/spa/native-door-keys.js';
import type { DatagramDoorCounters } from '../metrics/daemon-metrics.js';
import type { Logger } from '../ports/logger.js';
import type { ReplayStore } from '../ports/replay-store.js';
import type { LogLimiter } from './log-limiter.js';
import { admitReplay } from './replay-admission.js';

export interface SpaDoorShellDeps {
  readonly door: Door;
  readonly replay: ReplayStore;
  readonly log: Logger;
  readonly limiter: LogLimiter;
  /** This door's counters (received, accepted, rejected by reason). */
  readonly counters: DatagramDoorCounters;
  readonly grant: (door: Door, grant: SpaGrant) => Promise<void>;
  readonly knownSources: KnownSources;
  /** Monotonic milliseconds, for the known sources. */
  readonly nowMs: () => number;
}

/** `spa` doors name who authenticated a packet `client`; fwknop doors name the stanza. */
export type DoorKind =
  | { readonly event: 'spa'; readonly who: 'client' }
  | { readonly event: 'fwknop'; readonly who: 'stanza' };

export class SpaDoorShell<R extends SpaDoorRejectReason> {
  private readonly rejectedMessage: string;
  private readonly acceptedMessage: string;

  constructor(
    private readonly deps: SpaDoorShellDeps,
    private readonly kind: DoorKind,
  ) {
    this.rejectedMessage = `${kind.event} rejected`;
    this.acceptedMessage = `${kind.event} accepted`;
  }

  /** Counts a datagram given to the handler (before anything is looked at). */
  received(): void {
    this.deps.counters.received.inc();
  }

  /** `serverKey`: native SPA, made for the previous server key (logged as `server_key`). */
  reject(reason: R, source: string, who?: string, detail?: string, serverKey?: OldServerKeyUse): void {
    this.deps.counters.rejected(reason).inc();
    const suppressed = this.deps.limiter.admit(reason);
    if (suppressed === null) return;
    const { event, who: whoField } = this.kind;
    this.deps.log.info(
      {
        event,
        door: this.deps.door.name,
        source,
        [whoField]: who,
        verdict: 'rejected',
        reason,
        detail,
        server_key: serverKey,
        suppressed: suppressed || undefined,
      },
      this.rejectedMessage,
    );
  }

  /**
   * The replay check against the store, then `decide` (the ladder's conclude()) on its outcome,
   * then the grant. Resolves once the grant has been made or the packet refused; never rejects.
   */
  async conclude<P>(
    step: NeedsReplayCheck<P>,
    source: string,
    decide: (outcome: ReplayOutcome) => LadderFinal<R>,
  ): Promise<void> {
    const outcome = await admitReplay(this.deps.replay, step.replay, this.deps.log);
    const final = decide(outcome);
    if (final.kind === 'reject') return this.reject(final.reason, source, final.who, final.detail, final.serverKey);
    // The grant is asked for first: the gate reaches the kernel before its first await
    // (gates/nftables.ts, nft-element-binding.ts), so the port opens without waiting for the
    // counting and the log line below (a log line costs ~0.3 ms when the daemon has been idle),
    // which still come before the grant's own line, logged once the gate has answered.
    const granted = this.deps.grant(this.deps.door, final.grant);
    this.deps.counters.accepted.inc();
    this.deps.knownSources.remember(source, this.deps.nowMs());
    const { event, who: whoField } = this.kind;
    this.deps.log.info(
      {
        event,
        door: this.deps.door.name,
        source,
        [whoField]: final.who,
        verdict: 'accepted',
        server_key: final.serverKey,
      },
      this.acceptedMessage,
    );
    await granted;
  }
}
