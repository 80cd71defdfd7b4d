/**
 * A native SPA door's handler: a thin shell around its ladder (core/spa/native-ladder.ts). The
 * core takes rungs 1–7 and says "needs a replay check"; this does the I/O (the replay store,
 * durable before any grant), asks the core for the final decision, and counts and logs the one
 * outcome of each datagram through the shell both SPA kinds share (daemon/spa-door-shell.ts).
 * Nothing is ever sent back.
 */

import type { Door } from '../core/door.js';
import { formatIPAddress, parseIPAddress } from '../core/ip-address.js';
import type { KnownSources } from '../core/known-sources.js';
import type { SpaRejectReason } from '../core/reasons.js';
import type { SpaGrant } from '../core/spa/ladder-step.js';
import { NativeLadder } from '../core/spa/native-ladder.js';
import type { PreviousServerKeys, SpaServerKeys } from '../core/spa/native-door-keys.js';
import type { WorkBudget } from '../core/work-budget.js';
import type { DatagramDoorCounters } from '../metrics/daemon-metrics.js';
import type { Logger } from '../ports/logger.js';
import type { ReplayStore } from '../ports/replay-store.js';
import type { LogLimiter } from './log-limiter.js';
import { SpaDoorShell } from './spa-door-shell.js';

export type { SpaGrant } from '../core/spa/ladder-step.js';

export interface SpaHandlerDeps {
  readonly door: Door;
  readonly keys: SpaServerKeys;
  /** Key rotation: the previous server key and the end of its overlap; null or absent without one. */
  readonly previous?: PreviousServerKeys | null;
  readonly replay: ReplayStore;
  readonly freshnessMs: number;
  /** Wall-clock Unix milliseconds: timestamps in packets are wall-clock. */
  readonly unixMs: () => number;
  readonly log: Logger;
  readonly limiter: LogLimiter;
  readonly counters: DatagramDoorCounters;
  readonly grant: (door: Door, grant: SpaGrant) => Promise<void>;
  /** Shared by every SPA door: work allowed past MAC1 for sources that have not proven a key. */
  readonly budget: WorkBudget;
  /** Shared by every SPA door: sources that proved a key lately; each has an allowance of its own before the budget. */
  readonly knownSources: KnownSources;
  /** Monotonic milliseconds, for the budget and the known sources. */
  readonly nowMs: () => number;
}

export class SpaHandler {
  private readonly ladder: NativeLadder;
  private readonly shell: SpaDoorShell<SpaRejectReason>;

  constructor(private readonly deps: SpaHandlerDeps) {
    this.ladder = new NativeLadder(deps.door, deps.keys, deps.freshnessMs, deps.previous ?? null);
    this.shell = new SpaDoorShell(deps, { event: 'spa', who: 'client' });
  }

  /** One datagram from `sourceText` (an address as the socket or the header parser gives it). */
  handle(payload: Uint8Array, sourceText: string): void {
    this.shell.received();
    const source = parseIPAddress(sourceText);
    if (source === null) {
      this.shell.reject('spa-malformed', sourceText, undefined, 'unparseable source address');
      return;
    }
    const src = formatIPAddress(source);
    const step = this.ladder.check(
      { payload, source, sourceText: src },
      this.deps.unixMs(),
      this.deps.nowMs(),
      this.deps,
    );
    if (step.serverKey !== undefined) this.deps.counters.oldServerKey?.(step.serverKey).inc();
    if (step.kind === 'reject') {
      this.shell.reject(step.reason, src, step.who, step.detail, step.serverKey);
      return;
    }
    void this.shell.conclude(step, src, (outcome) => this.ladder.conclude(step, outcome));
  }
}
