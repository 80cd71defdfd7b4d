/**
 * What a step of an SPA ladder (native or fwknop) hands back to the daemon, as data: the core
 * never calls out. A step ends the datagram (`reject`, with its named reason), or asks for the
 * one thing the core cannot do itself, the replay store's check-and-record (`needs-replay-check`:
 * key, expiry, owner), carrying what the core needs to finish; the daemon does that I/O and gives
 * the outcome to the ladder's conclude(), which returns the final `reject` or `grant`.
 */

import type { NatTarget } from '../door.js';
import type { Endpoint } from '../endpoint.js';
import type { ReplayOwner, ReplayVerdict } from '../replay-window.js';
import type { CmdCycleFacts, FwknopCmdCycle } from './fwknop-cmd-cycle.js';
import type { FwknopCommand } from './fwknop-command-message.js';
import type { OldServerKeyUse } from './native-door-keys.js';

/** The replay rung, for the daemon to take against its ReplayStore (ports/replay-store.ts). */
export interface ReplayCheck {
  /** Lower-case hex: native SPA's hex(client id) + hex(nonce), fwknop's SHA-256 of the packet. */
  readonly key: string;
  /** Wall-clock Unix ms (core/freshness.ts replayExpiryMs). */
  readonly expiresAtMs: number;
  readonly owner: ReplayOwner;
}

/** How the replay rung ended: the store's verdict, or `store-failed` if it could not make the record durable. */
export type ReplayOutcome = ReplayVerdict | 'store-failed';

/** What a door grants one datagram. */
export interface SpaGrant {
  /** An address, or `network/prefix`. */
  readonly source: string;
  readonly family: 4 | 6;
  readonly endpoints: readonly Endpoint[];
  readonly durationS: number;
  /** Who it is for, in logs and the grant's bookkeeping: the client's name, or the fwknop stanza's origin. */
  readonly client: string;
  /** Where the grant's traffic is forwarded (the fwknop stanza's FORCE_NAT); absent: as the door says. */
  readonly nat?: NatTarget;
  /**
   * An fwknop stanza's command cycle: its commands run instead of the firewall (the grant's
   * `endpoints` are then empty), with the variables standing for `facts`.
   */
  readonly cmdCycle?: { readonly cycle: FwknopCmdCycle; readonly facts: CmdCycleFacts };
  /** An fwknop command message the stanza lets run: run as its user instead of any grant (no ports). */
  readonly command?: FwknopCommand;
}

export interface LadderReject<R extends string> {
  readonly kind: 'reject';
  readonly reason: R;
  /** Who authenticated the datagram, once that is known (client name, stanza origin). */
  readonly who?: string;
  /** Free text for the log line; never a secret. */
  readonly detail?: string;
  /** Native SPA: made for the previous server key (key rotation), not the current one. */
  readonly serverKey?: OldServerKeyUse;
}

export interface NeedsReplayCheck<P> {
  readonly kind: 'needs-replay-check';
  readonly replay: ReplayCheck;
  readonly who: string;
  /** What the ladder's conclude() needs to finish; opaque to the daemon. */
  readonly pending: P;
  /** Native SPA: made for the previous server key (key rotation), not the current one. */
  readonly serverKey?: OldServerKeyUse;
}

export interface LadderGrant {
  readonly kind: 'grant';
  readonly who: string;
  readonly grant: SpaGrant;
  /** Native SPA: made for the previous server key (key rotation), not the current one. */
  readonly serverKey?: OldServerKeyUse;
}

export type LadderStep<R extends string, P> = LadderReject<R> | NeedsReplayCheck<P>;
export type LadderFinal<R extends string> = LadderReject<R> | LadderGrant;

export function ladderReject<R extends string>(
  reason: R,
  who?: string,
  detail?: string,
  serverKey?: OldServerKeyUse,
): LadderReject<R> {
  return serverKey === undefined
    ? { kind: 'reject', reason, who, detail }
    : { kind: 'reject', reason, who, detail, serverKey };
}
