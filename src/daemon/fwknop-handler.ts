/**
 * An fwknop-compatible SPA door's handler: a thin shell around its ladder
 * (core/spa/fwknop-ladder.ts, which lists the rungs). The core takes the rungs before any key and
 * asks for a digest lookup; this consults the replay store's local cache (fwknopd's digest cache:
 * a replayed capture costs one hash and no HMAC); the core then opens, checks and decides, and
 * asks for the durable replay check; this does it, asks the core for the final decision, and
 * counts and logs the one outcome of each datagram through the shell both SPA kinds share
 * (daemon/spa-door-shell.ts). Nothing is ever sent back.
 */

import { formatIPAddress, parseIPAddress } from '../core/ip-address.js';
import type { FwknopRejectReason } from '../core/reasons.js';
import { FwknopLadder } from '../core/spa/fwknop-ladder.js';
import type { SpaHandlerDeps } from './spa-handler.js';
import { SpaDoorShell } from './spa-door-shell.js';

/**
 * What a native SPA handler gets, less the server key (fwknop keys are per stanza); `budget` is
 * the fwknop doors' own, in HMACs (FWKNOP_UNPROVEN_HMACS_PER_S), not the native doors'.
 */
export type FwknopHandlerDeps = Omit<SpaHandlerDeps, 'keys'>;

export class FwknopHandler {
  private readonly ladder: FwknopLadder;
  private readonly shell: SpaDoorShell<FwknopRejectReason>;

  constructor(private readonly deps: FwknopHandlerDeps) {
    this.ladder = new FwknopLadder(deps.door, deps.freshnessMs);
    this.shell = new SpaDoorShell(deps, { event: 'fwknop', who: 'stanza' });
  }

  handle(payload: Uint8Array, sourceText: string, destinationText?: string): void {
    if (this.deps.door.fwknop === null) return;
    this.shell.received();
    const source = parseIPAddress(sourceText);
    if (source === null) {
      this.shell.reject('fwknop-malformed', sourceText);
      return;
    }
    const src = formatIPAddress(source);
    const datagram = { payload, source, sourceText: src, destinationText };
    const pre = this.ladder.beforeCrypto(datagram, this.deps.nowMs(), this.deps);
    if (pre.kind === 'reject') {
      this.shell.reject(pre.reason, src);
      return;
    }
    if (this.deps.replay.local.seen(pre.digest)) {
      this.shell.reject('fwknop-replayed', src);
      return;
    }
    const step = this.ladder.open(datagram, pre, this.deps.unixMs());
    if (step.kind === 'reject') {
      this.shell.reject(step.reason, src, step.who, step.detail);
      return;
    }
    void this.shell.conclude(step, src, (outcome) => this.ladder.conclude(step, outcome));
  }
}
