/**
 * The daemon's side of the SPA ladder (docs/protocol.md) for one door: rungs 1-6 in the core
 * (openSpa), then freshness against the wall clock, the replay store (durable before any grant),
 * and the policy (core/spa/policy.ts). Each datagram ends in exactly one outcome, counted and
 * logged (rejections rate-limited per reason), and never an answer on the wire.
 */

import type { Door, SpaClient } from '../core/door.js';
import { formatIPAddress, parseIPAddress, type IPAddressBytes } from '../core/ip-address.js';
import { openSpa, type SpaServerKeys } from '../core/spa/native-wire.js';
import { decideSpaGrant } from '../core/spa/policy.js';
import { checkFreshness, replayExpiryMs } from '../core/freshness.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Logger } from '../ports/logger.js';
import type { ReplayStore } from '../ports/replay-store.js';
import type { LogLimiter } from './log-limiter.js';
import { admitReplay } from './replay-admission.js';
import { rejectCounter } from './reject-counter.js';
import type { SpaRejectReason } from '../core/reasons.js';
import type { KnownSources } from '../core/known-sources.js';
import type { WorkBudget } from '../core/work-budget.js';

export interface SpaGrant {
  readonly source: string;
  readonly family: 4 | 6;
  readonly endpoints: readonly Endpoint[];
  readonly durationS: number;
  readonly client: string;
}

export interface SpaHandlerDeps {
  readonly door: Door;
  readonly keys: SpaServerKeys;
  readonly replay: ReplayStore;
  readonly freshnessMs: number;
  /** Wall-clock Unix milliseconds: timestamps in packets are wall-clock. */
  readonly unixMs: () => number;
  readonly log: Logger;
  readonly limiter: LogLimiter;
  readonly count: (name: string) => void;
  readonly grant: (door: Door, grant: SpaGrant) => Promise<void>;
  /** Shared by every SPA door: work allowed past MAC1 for sources that have not proven a key. */
  readonly budget: WorkBudget;
  /** Shared by every SPA door: sources that proved a key lately; each has an allowance of its own before the budget. */
  readonly knownSources: KnownSources;
  /** Monotonic milliseconds, for the budget and the known sources. */
  readonly nowMs: () => number;
}

export class SpaHandler {
  private readonly clients: Map<string, SpaClient>;
  private readonly lookup = (hex: string): SpaClient | undefined => this.clients.get(hex);
  /** The source of the datagram being opened (handle() is synchronous up to the grant). */
  private current = '';
  /** Past MAC1: a source that proved a key lately goes on within its own allowance; beyond it, or any other source, takes from the budget. */
  private readonly admitExpensive = (): boolean => {
    const now = this.deps.nowMs();
    return this.deps.knownSources.admit(this.current, now) || this.deps.budget.take(now);
  };

  constructor(private readonly deps: SpaHandlerDeps) {
    this.clients = new Map((deps.door.spa?.clients ?? []).map((c) => [c.idHex, c]));
  }

  /** One datagram from `sourceText` (an address as the socket or the header parser gives it). */
  handle(payload: Uint8Array, sourceText: string): void {
    const { door, count } = this.deps;
    count('spa_datagrams_total');
    const source = parseIPAddress(sourceText);
    if (source === null) return this.reject('spa-malformed', sourceText, undefined, 'unparseable source address');
    this.current = formatIPAddress(source);
    const opened = openSpa(payload, this.deps.keys, this.lookup, this.admitExpensive);
    if (!opened.ok) return this.reject(opened.reason, this.current);
    const { client, request } = opened;
    const freshness = checkFreshness(request.timestampMs, this.deps.unixMs(), this.deps.freshnessMs);
    if (!freshness.fresh) {
      return this.reject('spa-stale', formatIPAddress(source), client.name, `clock skew ${Math.round(freshness.skewMs / 1000)}s`);
    }
    void this.afterReplayCheck(door, client, opened.replayKey, request, source);
  }

  private async afterReplayCheck(
    door: Door,
    client: SpaClient,
    replayKey: string,
    request: Parameters<typeof decideSpaGrant>[2],
    source: IPAddressBytes,
  ): Promise<void> {
    const src = formatIPAddress(source);
    const owner = { id: client.idHex, timestampMs: request.timestampMs };
    const admission = await admitReplay(this.deps.replay, replayKey, replayExpiryMs(request.timestampMs, this.deps.freshnessMs), this.deps.log, owner);
    if (admission !== 'fresh') return this.reject(`spa-${admission}`, src, client.name);
    const decision = decideSpaGrant(door, client, request, source);
    if (!decision.ok) return this.reject(decision.reason, src, client.name, decision.detail);
    this.deps.count('spa_accepted');
    this.deps.knownSources.remember(src, this.deps.nowMs());
    this.deps.log.info({ event: 'spa', door: door.name, source: src, client: client.name, verdict: 'accepted' }, 'spa accepted');
    await this.deps.grant(door, { source: decision.source, family: decision.family, endpoints: decision.endpoints, durationS: decision.durationS, client: client.name });
  }

  private reject(reason: SpaRejectReason, source: string, client?: string, detail?: string): void {
    this.deps.count(rejectCounter(reason));
    const suppressed = this.deps.limiter.admit(reason);
    if (suppressed === null) return;
    this.deps.log.info(
      { event: 'spa', door: this.deps.door.name, source, client, verdict: 'rejected', reason, detail, suppressed: suppressed || undefined },
      'spa rejected',
    );
  }
}
