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
import type { GpgAllowance, NeedsGpgDecrypt } from '../core/spa/fwknop-gpg-rung.js';
import { GPG_DEPTH } from '../core/spa/fwknop-gpg-rung.js';
import { FwknopLadder, type FwknopDatagram, type NeedsDigestLookup } from '../core/spa/fwknop-ladder.js';
import type { GpgDecrypter } from '../ports/gpg-decrypter.js';
import type { SpaHandlerDeps } from './spa-handler.js';
import { SpaDoorShell } from './spa-door-shell.js';

/**
 * What a native SPA handler gets, less the server key (fwknop keys are per stanza); `budget` is
 * the fwknop doors' own, in HMACs (FWKNOP_UNPROVEN_HMACS_PER_S), not the native doors'.
 */
export type FwknopHandlerDeps = Omit<SpaHandlerDeps, 'keys'> & {
  /**
   * GnuPG stanzas: the budget of gpg runs shared by the fwknop doors, and the decrypter, loaded on
   * first use (a dynamic import: doors without GnuPG stanzas never load it). Absent: GnuPG packets
   * are refused as `fwknop-gpg-failed`.
   */
  readonly gpg?: { readonly allowance: GpgAllowance; readonly decrypter: () => Promise<GpgDecrypter> };
};

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
    if (step.kind === 'needs-gpg-decrypt') {
      void this.gpg(datagram, pre, step);
      return;
    }
    if (step.kind === 'reject') {
      this.shell.reject(step.reason, src, step.who, step.detail);
      return;
    }
    void this.shell.conclude(step, src, (outcome) => this.ladder.conclude(step, outcome));
  }

  /** The gpg runs one GnuPG packet asks for, one at a time, each admitted by the GnuPG budget. */
  private async gpg(d: FwknopDatagram, pre: NeedsDigestLookup, need: NeedsGpgDecrypt): Promise<void> {
    const gpg = this.deps.gpg;
    let reason: FwknopRejectReason = 'fwknop-decrypt';
    let detail: string | undefined;
    for (const trial of need.trials) {
      if (gpg === undefined) return this.shell.reject('fwknop-gpg-failed', d.sourceText, undefined, 'no gpg decrypter');
      if (!this.ladder.admitGpg(d, this.deps.nowMs(), gpg.allowance))
        return this.shell.reject('fwknop-gpg-overload', d.sourceText);
      let result: Awaited<ReturnType<GpgDecrypter['decrypt']>>;
      try {
        result = await (await gpg.decrypter()).decrypt(trial.settings, trial.message);
      } catch (e) {
        result = { kind: 'failed', detail: e instanceof Error ? e.message : String(e) };
      } finally {
        gpg.allowance.runs.active--;
      }
      const step = this.ladder.afterGpg(d, pre, trial, result, this.deps.unixMs());
      if (step.kind === 'needs-replay-check') {
        await this.shell.conclude(step, d.sourceText, (outcome) => this.ladder.conclude(step, outcome));
        return;
      }
      // Past the GnuPG rungs (a stanza opened it, a later rung refused): that is the outcome.
      if (GPG_DEPTH[step.reason] === undefined)
        return this.shell.reject(step.reason, d.sourceText, step.who, step.detail);
      if ((GPG_DEPTH[step.reason] ?? 0) >= (GPG_DEPTH[reason] ?? 0)) {
        reason = step.reason;
        detail = result.kind === 'decrypted' ? undefined : result.detail;
      }
    }
    this.shell.reject(reason, d.sourceText, undefined, detail);
  }
}
